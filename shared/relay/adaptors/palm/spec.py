"""Google PaLM 2 (type 11): generateMessage; a stream request gets the answer as one chunk."""

from __future__ import annotations

from shared.relay.adaptors.palm.adaptor import PalmAdaptor
from shared.relay.adaptors.spec import API_PALM, ChannelSpec, Text

MODELS = ("PaLM-2",)

SPECS = (
    ChannelSpec(
        id=11,
        name="PaLM",
        label=Text("PaLM2", "PaLM2"),
        api_type=API_PALM,
        adaptor=PalmAdaptor(),
        base_url="https://generativelanguage.googleapis.com",
        models=MODELS,
        owner="google palm",
        catalogued=True,
    ),
)
