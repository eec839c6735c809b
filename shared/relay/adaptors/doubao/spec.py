"""ByteDance Volcengine Ark / Doubao (type 40): chat and embeddings on /api/v3, bot applications on their own path."""

from __future__ import annotations

from shared.relay.adaptors.doubao.url import doubao_url
from shared.relay.adaptors.openai.spec import ADAPTOR
from shared.relay.adaptors.spec import API_OPENAI, ChannelSpec, Route, Text

MODELS = (
    "Doubao-pro-128k",
    "Doubao-pro-32k",
    "Doubao-pro-4k",
    "Doubao-lite-128k",
    "Doubao-lite-32k",
    "Doubao-lite-4k",
    "Doubao-embedding",
)

SPECS = (
    ChannelSpec(
        id=40,
        name="Doubao",
        label=Text("ByteDance Volcengine", "字节火山引擎"),
        api_type=API_OPENAI,
        adaptor=ADAPTOR,
        base_url="https://ark.cn-beijing.volces.com",
        models=MODELS,
        owner="doubao",
        catalogued=True,
        route=Route(url=doubao_url),
        models_hint=Text("Use the endpoint IDs of your deployments as model names", "模型名称请填写推理接入点 ID"),
    ),
)
