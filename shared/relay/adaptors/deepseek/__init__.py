"""DeepSeek (type 36): an OpenAI-protocol upstream."""
