"""iFlytek Spark (type 18): a signed WebSocket URL from `appid|secret|key`. Not relayed yet: `adaptor=None` makes the engine answer "channel type … is not supported yet"."""
