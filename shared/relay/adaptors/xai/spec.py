"""xAI (type 45): an OpenAI-protocol upstream."""

from __future__ import annotations

from shared.relay.adaptors.openai.spec import ADAPTOR
from shared.relay.adaptors.spec import API_OPENAI, ChannelSpec, Text

MODELS = ("grok-beta",)

SPECS = (
    ChannelSpec(
        id=45,
        name="XAI",
        label=Text("xAI", "xAI"),
        api_type=API_OPENAI,
        adaptor=ADAPTOR,
        base_url="https://api.x.ai",
        models=MODELS,
        owner="xai",
        catalogued=True,
    ),
)
