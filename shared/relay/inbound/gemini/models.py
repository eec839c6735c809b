"""Gemini's model listing, `GET /v1beta/models[/{model}]`: the models the caller may use (the same
set as OpenAI's /v1/models), in Google's Model shape, so `client.models.list()` works."""

from __future__ import annotations

from typing import Any

from shared.relay.auth import Caller
from shared.relay.models_routes import available_models
from shared.relay.types import RelayError
from shared.snapshot import Snapshot

GENERATE_METHODS = ["generateContent", "streamGenerateContent", "countTokens"]
EMBED_METHODS = ["embedContent", "batchEmbedContents"]


def model_entry(name: str) -> dict[str, Any]:
    methods = EMBED_METHODS if "embedding" in name else GENERATE_METHODS
    return {"name": f"models/{name}", "baseModelId": name, "displayName": name, "supportedGenerationMethods": methods}


def list_answer(snapshot: Snapshot, caller: Caller) -> dict[str, Any]:
    return {"models": [model_entry(name) for name in sorted(available_models(snapshot, caller))]}


def get_answer(snapshot: Snapshot, caller: Caller, name: str) -> dict[str, Any]:
    if name not in available_models(snapshot, caller):
        raise RelayError(404, f"models/{name} is not found for this token", code="model_not_found")
    return model_entry(name)
