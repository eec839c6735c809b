"""Zhipu ChatGLM (type 16): a JWT signed from the `id.secret` key; GLM v4 (OpenAI-like) and the v3 model-api."""

from __future__ import annotations

from shared.relay.adaptors.spec import API_ZHIPU, ChannelSpec, Text
from shared.relay.adaptors.zhipu.adaptor import ZhipuAdaptor

MODELS = (
    "chatglm_turbo",
    "chatglm_pro",
    "chatglm_std",
    "chatglm_lite",
    "glm-4",
    "glm-4v",
    "glm-3-turbo",
    "embedding-2",
    "cogview-3",
)

SPECS = (
    ChannelSpec(
        id=16,
        name="Zhipu",
        label=Text("Zhipu ChatGLM", "智谱 ChatGLM"),
        api_type=API_ZHIPU,
        adaptor=ZhipuAdaptor(),
        base_url="https://open.bigmodel.cn",
        models=MODELS,
        owner="zhipu",
        catalogued=True,
        key_format=Text("Format: APIKey.Secret", "格式：APIKey.Secret"),
    ),
)
