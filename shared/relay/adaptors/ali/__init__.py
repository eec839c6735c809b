"""Alibaba DashScope (type 17): the native text-generation API. Not relayed yet: `adaptor=None` makes the engine answer "channel type … is not supported yet"."""
