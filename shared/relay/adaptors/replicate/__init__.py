"""Replicate (type 46): the prediction API. Not relayed yet: `adaptor=None` makes the engine answer "channel type … is not supported yet"."""
