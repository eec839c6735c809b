"""Alibaba DashScope (type 17): the native text-generation and text-embedding APIs."""

from __future__ import annotations

from shared.relay.adaptors.ali.adaptor import AliAdaptor
from shared.relay.adaptors.spec import API_ALI, ChannelSpec, ConfigField, Text

MODELS = (
    "qwen-turbo",
    "qwen-plus",
    "qwen-max",
    "qwen-max-longcontext",
    "text-embedding-v1",
    "ali-stable-diffusion-xl",
    "ali-stable-diffusion-v1.5",
    "wanx-v1",
)

SPECS = (
    ChannelSpec(
        id=17,
        name="Ali",
        label=Text("Alibaba Tongyi Qianwen", "阿里通义千问"),
        api_type=API_ALI,
        adaptor=AliAdaptor(),
        base_url="https://dashscope.aliyuncs.com",
        models=MODELS,
        owner="ali",
        catalogued=True,
        fields=(
            ConfigField("config.plugin", Text("Plugin", "插件"), hint=Text("Optional Tongyi plugin parameter", "可选，通义千问插件参数")),
        ),
        other_fallback="plugin",
    ),
)
