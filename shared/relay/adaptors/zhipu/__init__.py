"""Zhipu ChatGLM (type 16): a JWT signed from the `id.secret` key. Not relayed yet: `adaptor=None` makes the engine answer "channel type … is not supported yet"."""
