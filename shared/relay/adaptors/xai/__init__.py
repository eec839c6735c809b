"""xAI (type 45): an OpenAI-protocol upstream."""
