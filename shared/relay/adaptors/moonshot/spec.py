"""Moonshot AI (type 25): an OpenAI-protocol upstream."""

from __future__ import annotations

from shared.relay.adaptors.openai.spec import ADAPTOR
from shared.relay.adaptors.spec import API_OPENAI, ChannelSpec, Text

MODELS = ("moonshot-v1-8k", "moonshot-v1-32k", "moonshot-v1-128k")

SPECS = (
    ChannelSpec(
        id=25,
        name="Moonshot",
        label=Text("Moonshot AI", "Moonshot AI"),
        api_type=API_OPENAI,
        adaptor=ADAPTOR,
        base_url="https://api.moonshot.cn",
        models=MODELS,
        owner="moonshot",
        catalogued=True,
    ),
)
