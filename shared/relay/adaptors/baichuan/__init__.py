"""Baichuan (type 26): an OpenAI-protocol upstream."""
