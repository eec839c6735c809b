"""Knowledge base: FastGPT (type 22): an OpenAI-protocol upstream."""
