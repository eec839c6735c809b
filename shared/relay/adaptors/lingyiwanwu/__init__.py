"""01.AI (type 31): an OpenAI-protocol upstream."""
