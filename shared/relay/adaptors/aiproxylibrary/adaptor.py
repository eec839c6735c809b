"""The AI Proxy knowledge-base adaptor (channel type 21): chat -> /api/library/ask."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import orjson

from shared.relay import modes
from shared.relay.adaptors.aiproxylibrary import convert
from shared.relay.adaptors.common import json_body, unsupported_mode
from shared.relay.types import ConvertedResponse, RelayError, RelayMeta, UpstreamRequest


class AIProxyLibraryAdaptor:
    name = "aiproxylibrary"

    def build_request(self, meta: RelayMeta, body: dict[str, Any] | None, raw: bytes) -> UpstreamRequest:
        if meta.mode != modes.CHAT:
            raise unsupported_mode(meta.mode)
        converted = convert.convert_request(meta, json_body(body, raw))
        headers = {"Content-Type": "application/json", "Authorization": f"Bearer {meta.api_key}"}
        if meta.is_stream:
            headers["Accept"] = "text/event-stream"
        return UpstreamRequest("POST", f"{meta.base_url}/api/library/ask", headers, orjson.dumps(converted))

    def convert_response(self, meta: RelayMeta, status: int, headers: Mapping[str, str], body: bytes) -> ConvertedResponse:
        return convert.convert_response(meta, status, body)

    def stream_converter(self, meta: RelayMeta) -> convert.LibraryStream:
        return convert.LibraryStream(meta)

    def upstream_error(self, status: int, body: bytes) -> RelayError:
        return convert.upstream_error(status, body)
