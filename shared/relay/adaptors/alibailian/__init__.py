"""Alibaba Cloud Bailian (type 49): DashScope's OpenAI-compatible mode, chat and embeddings."""
