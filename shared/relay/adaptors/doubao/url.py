"""Volcengine Ark URLs: chat and embeddings under /api/v3, "bot" applications on their own path."""

from __future__ import annotations

from shared.relay import modes
from shared.relay.adaptors.common import unsupported_mode
from shared.relay.types import RelayMeta


def doubao_url(meta: RelayMeta) -> str:
    if meta.mode == modes.CHAT:
        if meta.actual_model.startswith("bot"):
            return f"{meta.base_url}/api/v3/bots/chat/completions"
        return f"{meta.base_url}/api/v3/chat/completions"
    if meta.mode == modes.EMBEDDINGS:
        return f"{meta.base_url}/api/v3/embeddings"
    raise unsupported_mode(meta.mode)
