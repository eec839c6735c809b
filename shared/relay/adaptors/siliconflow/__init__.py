"""SiliconFlow (type 44): an OpenAI-protocol upstream."""
