"""Knowledge base: FastGPT (type 22): an OpenAI-protocol upstream."""

from __future__ import annotations

from shared.relay.adaptors.openai.spec import ADAPTOR
from shared.relay.adaptors.openai.spec import MODELS as OPENAI_MODELS
from shared.relay.adaptors.spec import API_OPENAI, ChannelSpec, Text

SPECS = (
    ChannelSpec(
        id=22,
        name="FastGPT",
        label=Text("Knowledge base: FastGPT", "知识库：FastGPT"),
        api_type=API_OPENAI,
        adaptor=ADAPTOR,
        base_url="https://fastgpt.run/api/openapi",
        models=OPENAI_MODELS,
    ),
)
