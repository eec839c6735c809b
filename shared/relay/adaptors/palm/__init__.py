"""Google PaLM 2 (type 11): generateMessage. Not relayed yet: `adaptor=None` makes the engine answer "channel type … is not supported yet"."""
