"""Alibaba Cloud Bailian (type 49): DashScope's OpenAI-compatible mode, chat and embeddings."""

from __future__ import annotations

from shared.relay import modes
from shared.relay.adaptors.openai.spec import ADAPTOR
from shared.relay.adaptors.spec import API_OPENAI, ChannelSpec, Route, Text

MODELS = (
    "qwen-turbo",
    "qwen-plus",
    "qwen-long",
    "qwen-max",
    "qwen-coder-plus",
    "qwen-coder-plus-latest",
    "qwen-coder-turbo",
    "qwen-coder-turbo-latest",
    "qwen-mt-plus",
    "qwen-mt-turbo",
    "qwq-32b-preview",
    "deepseek-r1",
    "deepseek-v3",
)

SPECS = (
    ChannelSpec(
        id=49,
        name="AliBailian",
        label=Text("Alibaba Cloud Bailian", "阿里云百炼"),
        api_type=API_OPENAI,
        adaptor=ADAPTOR,
        base_url="https://dashscope.aliyuncs.com",
        models=MODELS,
        owner="alibailian",
        route=Route(
            paths={
                modes.CHAT: "/compatible-mode/v1/chat/completions",
                modes.EMBEDDINGS: "/compatible-mode/v1/embeddings",
            }
        ),
    ),
)
