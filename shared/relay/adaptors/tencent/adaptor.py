"""The Tencent adaptor (channel type 23): OpenAI chat/embeddings <-> Hunyuan's API 3.0 actions,
each request signed with TC3-HMAC-SHA256 from the `AppId|SecretId|SecretKey` key."""

from __future__ import annotations

import time
from collections.abc import Mapping
from typing import Any
from urllib.parse import urlsplit

import orjson

from shared.relay import modes
from shared.relay.adaptors.common import conversion_error, unsupported_mode
from shared.relay.adaptors.tencent import convert, sign
from shared.relay.types import ConvertedResponse, RelayError, RelayMeta, UpstreamRequest

SERVICE = "hunyuan"
VERSION = "2023-09-01"


def split_key(key: str) -> tuple[str, str, str]:
    parts = key.split("|")
    if len(parts) != 3 or not all(parts[1:]):
        raise RelayError(
            401, "invalid Tencent key: the format is AppId|SecretId|SecretKey", type="authentication_error", code="invalid_api_key"
        )
    return parts[0], parts[1], parts[2]


class TencentAdaptor:
    name = "tencent"

    upstream_error = staticmethod(convert.parse_error)

    def build_request(self, meta: RelayMeta, body: dict[str, Any] | None, raw: bytes) -> UpstreamRequest:
        if meta.mode not in (modes.CHAT, modes.EMBEDDINGS):
            raise unsupported_mode(meta.mode)
        _, secret_id, secret_key = split_key(meta.api_key)
        if body is None:
            try:
                body = orjson.loads(raw)
            except orjson.JSONDecodeError:
                raise conversion_error("request body is not JSON") from None
            if not isinstance(body, dict):
                raise conversion_error("request body is not a JSON object")
        if meta.mode == modes.EMBEDDINGS:
            action, payload = "GetEmbedding", orjson.dumps(convert.embeddings_request(body))
        else:
            action, payload = "ChatCompletions", orjson.dumps(convert.chat_request(meta, body))
        timestamp = int(time.time())
        host = urlsplit(meta.base_url).netloc  # the Host header the client sends for this URL
        headers = {
            "Content-Type": sign.CONTENT_TYPE,
            "X-TC-Action": action,
            "X-TC-Version": VERSION,
            "X-TC-Timestamp": str(timestamp),
            "Authorization": sign.authorization(secret_id, secret_key, host, SERVICE, payload, timestamp),
        }
        return UpstreamRequest("POST", f"{meta.base_url}/", headers, payload)

    def convert_response(self, meta: RelayMeta, status: int, headers: Mapping[str, str], body: bytes) -> ConvertedResponse:
        if meta.mode == modes.EMBEDDINGS:
            return convert.embeddings_response(meta, status, body)
        return convert.chat_response(meta, status, body)

    def stream_converter(self, meta: RelayMeta) -> convert.HunyuanStream:
        return convert.HunyuanStream(meta)
