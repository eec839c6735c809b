"""iFlytek Spark (type 18): a signed WebSocket URL from `appid|secret|key` (base URL: wss://spark-api.xf-yun.com)."""

from __future__ import annotations

from shared.relay.adaptors.spec import API_VERSION, API_XUNFEI, ChannelSpec, ConfigField, Text
from shared.relay.adaptors.xunfei.adaptor import XunfeiAdaptor

MODELS = ("Spark-Lite", "Spark-Pro", "Spark-Pro-128K", "Spark-Max", "Spark-Max-32K", "Spark-4.0-Ultra")

SPECS = (
    ChannelSpec(
        id=18,
        name="Xunfei",
        label=Text("iFlytek Spark", "讯飞星火认知"),
        api_type=API_XUNFEI,
        adaptor=XunfeiAdaptor(),
        models=MODELS,
        owner="xunfei",
        catalogued=True,
        key_format=Text("Format: APPID|APISecret|APIKey", "格式：APPID|APISecret|APIKey"),
        fields=(
            ConfigField(
                "config.api_version",
                API_VERSION,
                hint=Text("For example v1.1, v2.1, v3.1, v3.5", "例如 v1.1、v2.1、v3.1、v3.5"),
                placeholder="v2.1",
            ),
        ),
        other_fallback="api_version",
    ),
)
