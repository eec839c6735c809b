"""360 ZhiNao (type 19): an OpenAI-protocol upstream."""
