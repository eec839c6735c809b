"""Google PaLM 2 (type 11): generateMessage.
Not relayed yet: `adaptor=None` makes the engine answer "channel type … is not supported yet"."""

from __future__ import annotations

from shared.relay.adaptors.spec import API_PALM, ChannelSpec, Text

MODELS = ("PaLM-2",)

SPECS = (
    ChannelSpec(
        id=11,
        name="PaLM",
        label=Text("PaLM2", "PaLM2"),
        api_type=API_PALM,
        adaptor=None,
        base_url="https://generativelanguage.googleapis.com",
        models=MODELS,
        owner="google palm",
        catalogued=True,
    ),
)
