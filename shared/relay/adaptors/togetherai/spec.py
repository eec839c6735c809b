"""together.ai (type 39): an OpenAI-protocol upstream."""

from __future__ import annotations

from shared.relay.adaptors.openai.spec import ADAPTOR
from shared.relay.adaptors.spec import API_OPENAI, ChannelSpec, Text

MODELS = (
    "meta-llama/Llama-2-7b-chat-hf",
    "meta-llama/Llama-3-70b-chat-hf",
    "mistralai/Mixtral-8x7B-Instruct-v0.1",
    "Qwen/Qwen1.5-72B-Chat",
)

SPECS = (
    ChannelSpec(
        id=39,
        name="TogetherAI",
        label=Text("together.ai", "together.ai"),
        api_type=API_OPENAI,
        adaptor=ADAPTOR,
        base_url="https://api.together.xyz",
        models=MODELS,
        owner="together.ai",
        catalogued=True,
    ),
)
