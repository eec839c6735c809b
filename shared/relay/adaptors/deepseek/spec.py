"""DeepSeek (type 36): an OpenAI-protocol upstream."""

from __future__ import annotations

from shared.relay.adaptors.openai.spec import ADAPTOR
from shared.relay.adaptors.spec import API_OPENAI, ChannelSpec, Text

MODELS = ("deepseek-chat", "deepseek-reasoner")

SPECS = (
    ChannelSpec(
        id=36,
        name="DeepSeek",
        label=Text("DeepSeek", "DeepSeek"),
        api_type=API_OPENAI,
        adaptor=ADAPTOR,
        base_url="https://api.deepseek.com",
        models=MODELS,
        owner="deepseek",
        catalogued=True,
        balance="deepseek",
        balance_host="https://api.deepseek.com",
    ),
)
