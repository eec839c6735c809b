"""together.ai (type 39): an OpenAI-protocol upstream."""
