"""Gemini's native API inbound: /v1beta/models/{model}:generateContent and its siblings."""
