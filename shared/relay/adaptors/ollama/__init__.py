"""Ollama (type 30): the native /api/chat and /api/embed. Not relayed yet: `adaptor=None` makes the engine answer "channel type … is not supported yet"."""
