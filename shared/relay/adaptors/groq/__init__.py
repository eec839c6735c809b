"""Groq (type 29): an OpenAI-protocol upstream."""
