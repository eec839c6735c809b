"""Baichuan (type 26): an OpenAI-protocol upstream."""

from __future__ import annotations

from shared.relay.adaptors.openai.spec import ADAPTOR
from shared.relay.adaptors.spec import API_OPENAI, ChannelSpec, Text

MODELS = ("Baichuan2-Turbo", "Baichuan2-Turbo-192k", "Baichuan-Text-Embedding")

SPECS = (
    ChannelSpec(
        id=26,
        name="Baichuan",
        label=Text("Baichuan", "百川大模型"),
        api_type=API_OPENAI,
        adaptor=ADAPTOR,
        base_url="https://api.baichuan-ai.com",
        models=MODELS,
        owner="baichuan",
        catalogued=True,
    ),
)
