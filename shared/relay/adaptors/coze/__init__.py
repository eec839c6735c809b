"""Coze (type 34): the bot chat API; the model names the bot. Not relayed yet: `adaptor=None` makes the engine answer "channel type … is not supported yet"."""
