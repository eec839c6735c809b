"""Cohere (type 35): /v1/chat with a chat history. Not relayed yet: `adaptor=None` makes the engine answer "channel type … is not supported yet"."""
