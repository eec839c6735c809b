"""The Xunfei adaptor (channel type 18): OpenAI chat <-> iFlytek Spark over a signed WebSocket URL
from the `APPID|APISecret|APIKey` key; the API version comes from the model or the channel's config."""

from __future__ import annotations

import time
from collections.abc import Mapping
from typing import Any

import orjson

from shared.relay import modes
from shared.relay.adaptors.common import conversion_error, unsupported_mode
from shared.relay.adaptors.xunfei import auth, convert, transport
from shared.relay.types import ConvertedResponse, RelayMeta, UpstreamRequest
from shared.relay.upstream import UpstreamClient, UpstreamResponse


class XunfeiAdaptor:
    name = "xunfei"

    upstream_error = staticmethod(convert.parse_error)

    def build_request(self, meta: RelayMeta, body: dict[str, Any] | None, raw: bytes) -> UpstreamRequest:
        if meta.mode != modes.CHAT:
            raise unsupported_mode(meta.mode)
        app_id, api_secret, api_key = auth.split_key(meta.api_key)
        if body is None:
            try:
                body = orjson.loads(raw)
            except orjson.JSONDecodeError:
                raise conversion_error("request body is not JSON") from None
            if not isinstance(body, dict):
                raise conversion_error("request body is not a JSON object")
        version = auth.api_version(meta.actual_model, meta.config.get("api_version", ""))
        url = auth.signed_url(meta.base_url, version, api_key, api_secret, time.time())
        frame = convert.request_frame(app_id, auth.domain(version), body)
        return UpstreamRequest("GET", url, {}, orjson.dumps(frame))

    async def exchange(self, upstream: UpstreamClient, meta: RelayMeta, request: UpstreamRequest) -> UpstreamResponse:
        return await transport.exchange(request.url, request.body or b"")  # a WebSocket, not the pool

    def convert_response(self, meta: RelayMeta, status: int, headers: Mapping[str, str], body: bytes) -> ConvertedResponse:
        return convert.convert_response(meta, status, body)

    def stream_converter(self, meta: RelayMeta) -> convert.SparkStream:
        return convert.SparkStream(meta)
