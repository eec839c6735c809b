"""Cohere (type 35): /v1/chat with a chat history, NDJSON streams, usage from billed units."""

from __future__ import annotations

from shared.relay.adaptors.cohere.adaptor import CohereAdaptor
from shared.relay.adaptors.spec import API_COHERE, ChannelSpec, Text

_BASE = ("command", "command-nightly", "command-light", "command-light-nightly", "command-r", "command-r-plus")
# Each model also exists with a `-internet` suffix (web-search connector).
MODELS = _BASE + tuple(f"{m}-internet" for m in _BASE)

SPECS = (
    ChannelSpec(
        id=35,
        name="Cohere",
        label=Text("Cohere", "Cohere"),
        api_type=API_COHERE,
        adaptor=CohereAdaptor(),
        base_url="https://api.cohere.ai",
        models=MODELS,
        owner="Cohere",
        catalogued=True,
    ),
)
