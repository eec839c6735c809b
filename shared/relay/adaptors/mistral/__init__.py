"""Mistral AI (type 28): an OpenAI-protocol upstream."""
