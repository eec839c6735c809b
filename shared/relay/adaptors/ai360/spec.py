"""360 ZhiNao (type 19): an OpenAI-protocol upstream."""

from __future__ import annotations

from shared.relay.adaptors.openai.spec import ADAPTOR
from shared.relay.adaptors.spec import API_OPENAI, ChannelSpec, Text

MODELS = ("360GPT_S2_V9", "embedding-bert-512-v1", "embedding_s1_v1", "semantic_similarity_s1_v1")

SPECS = (
    ChannelSpec(
        id=19,
        name="AI360",
        label=Text("360 ZhiNao", "360 智脑"),
        api_type=API_OPENAI,
        adaptor=ADAPTOR,
        base_url="https://ai.360.cn",
        models=MODELS,
        owner="360",
        catalogued=True,
    ),
)
