"""Anthropic Messages API (channel type 14)."""
