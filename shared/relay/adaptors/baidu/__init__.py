"""Baidu ERNIE (type 15): an OAuth access token from `client_id|client_secret`. Not relayed yet: `adaptor=None` makes the engine answer "channel type … is not supported yet"."""
