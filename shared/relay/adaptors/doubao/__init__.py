"""ByteDance Volcengine Ark / Doubao (type 40): chat and embeddings on /api/v3, bot applications on their own path."""
