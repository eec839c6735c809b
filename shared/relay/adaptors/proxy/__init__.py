"""Proxy (type 43) as a channel type; /v1/oneapi/proxy is a route of its own. It has no model list. Not relayed yet: `adaptor=None` makes the engine answer "channel type … is not supported yet"."""
