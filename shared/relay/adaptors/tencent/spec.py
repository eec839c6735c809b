"""Tencent Hunyuan (type 23): TC3-HMAC-SHA256 signed calls from `appid|secret_id|secret_key`."""

from __future__ import annotations

from shared.relay.adaptors.spec import API_TENCENT, ChannelSpec, Text
from shared.relay.adaptors.tencent.adaptor import TencentAdaptor

MODELS = (
    "hunyuan-lite",
    "hunyuan-standard",
    "hunyuan-standard-256K",
    "hunyuan-pro",
    "hunyuan-vision",
    "hunyuan-embedding",
)

SPECS = (
    ChannelSpec(
        id=23,
        name="Tencent",
        label=Text("Tencent Hunyuan", "腾讯混元"),
        api_type=API_TENCENT,
        adaptor=TencentAdaptor(),
        base_url="https://hunyuan.tencentcloudapi.com",
        models=MODELS,
        owner="tencent",
        catalogued=True,
        key_format=Text("Format: AppId|SecretId|SecretKey", "格式：AppId|SecretId|SecretKey"),
    ),
)
