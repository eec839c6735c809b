"""iFlytek Spark V2 (type 48): an OpenAI-protocol upstream."""

from __future__ import annotations

from shared.relay.adaptors.openai.spec import ADAPTOR
from shared.relay.adaptors.spec import API_OPENAI, ChannelSpec, Text

MODELS = ("lite", "generalv3", "pro-128k", "generalv3.5", "max-32k", "4.0Ultra")

SPECS = (
    ChannelSpec(
        id=48,
        name="XunfeiV2",
        label=Text("iFlytek Spark V2", "讯飞星火认知 V2"),
        api_type=API_OPENAI,
        adaptor=ADAPTOR,
        base_url="https://spark-api-open.xf-yun.com",
        models=MODELS,
        owner="xunfeiv2",
        catalogued=True,
    ),
)
