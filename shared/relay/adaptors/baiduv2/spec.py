"""Baidu Qianfan V2 (type 47): OpenAI-protocol chat on /v2."""

from __future__ import annotations

from shared.relay import modes
from shared.relay.adaptors.openai.spec import ADAPTOR
from shared.relay.adaptors.spec import API_OPENAI, ChannelSpec, Route, Text

MODELS = (
    "ernie-4.0-8k-latest",
    "ernie-4.0-8k-preview",
    "ernie-4.0-8k",
    "ernie-4.0-turbo-8k-latest",
    "ernie-4.0-turbo-8k-preview",
    "ernie-4.0-turbo-8k",
    "ernie-4.0-turbo-128k",
    "ernie-3.5-8k-preview",
    "ernie-3.5-8k",
    "ernie-3.5-128k",
    "ernie-speed-8k",
    "ernie-speed-128k",
    "ernie-speed-pro-128k",
    "ernie-lite-8k",
    "ernie-lite-pro-128k",
    "ernie-tiny-8k",
    "ernie-char-8k",
    "ernie-char-fiction-8k",
    "ernie-novel-8k",
    "deepseek-v3",
    "deepseek-r1",
    "deepseek-r1-distill-qwen-32b",
    "deepseek-r1-distill-qwen-14b",
)

SPECS = (
    ChannelSpec(
        id=47,
        name="BaiduV2",
        label=Text("Baidu Wenxin Qianfan V2", "百度文心千帆 V2"),
        api_type=API_OPENAI,
        adaptor=ADAPTOR,
        base_url="https://qianfan.baidubce.com",
        models=MODELS,
        owner="baiduv2",
        catalogued=True,
        route=Route(paths={modes.CHAT: "/v2/chat/completions"}),
    ),
)
