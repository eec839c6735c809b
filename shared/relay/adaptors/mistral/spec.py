"""Mistral AI (type 28): an OpenAI-protocol upstream."""

from __future__ import annotations

from shared.relay.adaptors.openai.spec import ADAPTOR
from shared.relay.adaptors.spec import API_OPENAI, ChannelSpec, Text

MODELS = (
    "open-mistral-7b",
    "open-mixtral-8x7b",
    "mistral-small-latest",
    "mistral-medium-latest",
    "mistral-large-latest",
    "mistral-embed",
)

SPECS = (
    ChannelSpec(
        id=28,
        name="Mistral",
        label=Text("Mistral AI", "Mistral AI"),
        api_type=API_OPENAI,
        adaptor=ADAPTOR,
        base_url="https://api.mistral.ai",
        models=MODELS,
        owner="mistralai",
        catalogued=True,
    ),
)
