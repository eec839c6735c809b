"""Relay modes (docs/one-api-compat.md §3.8) and how a request path maps to one (§5.1)."""

from __future__ import annotations

UNKNOWN, CHAT, COMPLETIONS, EMBEDDINGS, MODERATIONS, IMAGES, EDITS, SPEECH, TRANSCRIPTION, TRANSLATION, PROXY = range(11)


def mode_for_path(path: str) -> int:
    if path.startswith("/v1/chat/completions"):
        return CHAT
    if path.startswith("/v1/completions"):
        return COMPLETIONS
    if path.startswith("/v1/embeddings") or path.endswith("embeddings"):
        return EMBEDDINGS
    if path.startswith("/v1/moderations"):
        return MODERATIONS
    if path.startswith("/v1/images/generations"):
        return IMAGES
    if path.startswith("/v1/edits"):
        return EDITS
    if path.startswith("/v1/audio/speech"):
        return SPEECH
    if path.startswith("/v1/audio/transcriptions"):
        return TRANSCRIPTION
    if path.startswith("/v1/audio/translations"):
        return TRANSLATION
    if path.startswith("/v1/oneapi/proxy"):
        return PROXY
    return UNKNOWN
