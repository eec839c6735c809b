"""01.AI (type 31): an OpenAI-protocol upstream."""

from __future__ import annotations

from shared.relay.adaptors.openai.spec import ADAPTOR
from shared.relay.adaptors.spec import API_OPENAI, ChannelSpec, Text

MODELS = ("yi-34b-chat-0205", "yi-34b-chat-200k", "yi-vl-plus")

SPECS = (
    ChannelSpec(
        id=31,
        name="LingYiWanWu",
        label=Text("01.AI", "零一万物"),
        api_type=API_OPENAI,
        adaptor=ADAPTOR,
        base_url="https://api.lingyiwanwu.com",
        models=MODELS,
        owner="lingyiwanwu",
        catalogued=True,
    ),
)
