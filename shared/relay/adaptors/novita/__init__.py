"""Novita (type 41): chat only; its base URL already ends in the API version."""
