"""Tencent Hunyuan (type 23): TC3-HMAC-SHA256 signed calls from `appid|secret_id|secret_key`. Not relayed yet: `adaptor=None` makes the engine answer "channel type … is not supported yet"."""
