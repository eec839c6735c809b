"""Baidu ERNIE (type 15): an OAuth access token from `client_id|client_secret`, cached until near expiry."""

from __future__ import annotations

from shared.relay.adaptors.baidu.adaptor import BaiduAdaptor
from shared.relay.adaptors.spec import API_BAIDU, ChannelSpec, Text

MODELS = (
    "ERNIE-4.0-8K",
    "ERNIE-3.5-8K",
    "ERNIE-3.5-8K-0205",
    "ERNIE-3.5-8K-1222",
    "ERNIE-Bot-8K",
    "ERNIE-3.5-4K-0205",
    "ERNIE-Speed-8K",
    "ERNIE-Speed-128K",
    "ERNIE-Lite-8K-0922",
    "ERNIE-Lite-8K-0308",
    "ERNIE-Tiny-8K",
    "BLOOMZ-7B",
    "Embedding-V1",
    "bge-large-zh",
    "bge-large-en",
    "tao-8k",
)

SPECS = (
    ChannelSpec(
        id=15,
        name="Baidu",
        label=Text("Baidu Wenxin Qianfan", "百度文心千帆"),
        api_type=API_BAIDU,
        adaptor=BaiduAdaptor(),
        base_url="https://aip.baidubce.com",
        models=MODELS,
        owner="baidu",
        catalogued=True,
        key_format=Text("Format: APIKey|SecretKey", "格式：APIKey|SecretKey"),
    ),
)
