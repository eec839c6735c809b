"""Gemini's OpenAI-compatible endpoint (type 51): the native Gemini model list, the client's /v1 dropped."""
