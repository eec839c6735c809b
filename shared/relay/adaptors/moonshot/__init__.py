"""Moonshot AI (type 25): an OpenAI-protocol upstream."""
