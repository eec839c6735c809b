"""The Ali adaptor (channel type 17): OpenAI chat/embeddings <-> DashScope's native API."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import orjson

from shared.relay import modes
from shared.relay.adaptors.ali import convert
from shared.relay.adaptors.ali.stream import AliStream
from shared.relay.adaptors.common import conversion_error, unsupported_mode
from shared.relay.adaptors.errors import upstream_error
from shared.relay.types import ConvertedResponse, RelayError, RelayMeta, UpstreamRequest

CHAT_PATH = "/api/v1/services/aigc/text-generation/generation"
EMBEDDINGS_PATH = "/api/v1/services/embeddings/text-embedding/text-embedding"


def parse_error(status: int, body: bytes) -> RelayError:
    """DashScope's `{code, message, request_id}` keeps its code (InvalidApiKey, Throttling, …)."""
    try:
        doc = orjson.loads(body)
    except orjson.JSONDecodeError:
        doc = None
    if isinstance(doc, dict) and doc.get("code"):
        return convert.error_of(status, doc)
    return upstream_error(status if status >= 400 else 500, body)


class AliAdaptor:
    name = "ali"

    upstream_error = staticmethod(parse_error)

    def build_request(self, meta: RelayMeta, body: dict[str, Any] | None, raw: bytes) -> UpstreamRequest:
        if meta.mode not in (modes.CHAT, modes.EMBEDDINGS):
            raise unsupported_mode(meta.mode)
        if body is None:
            try:
                body = orjson.loads(raw)
            except orjson.JSONDecodeError:
                raise conversion_error("request body is not JSON") from None
            if not isinstance(body, dict):
                raise conversion_error("request body is not a JSON object")
        headers = {"Content-Type": "application/json", "Authorization": f"Bearer {meta.api_key}"}
        if meta.mode == modes.EMBEDDINGS:
            payload = convert.embeddings_request(meta, body)
            return UpstreamRequest("POST", meta.base_url + EMBEDDINGS_PATH, headers, orjson.dumps(payload))
        if meta.is_stream:
            headers["Accept"] = "text/event-stream"
            headers["X-DashScope-SSE"] = "enable"
        plugin = meta.config.get("plugin")
        if plugin:
            headers["X-DashScope-Plugin"] = plugin
        return UpstreamRequest("POST", meta.base_url + CHAT_PATH, headers, orjson.dumps(convert.chat_request(meta, body)))

    def convert_response(self, meta: RelayMeta, status: int, headers: Mapping[str, str], body: bytes) -> ConvertedResponse:
        if meta.mode == modes.EMBEDDINGS:
            return convert.embeddings_response(meta, status, body)
        return convert.chat_response(meta, status, body)

    def stream_converter(self, meta: RelayMeta) -> AliStream:
        return AliStream(meta)
