"""The OpenAI adaptor: every channel type whose API type is openai (docs/one-api-compat.md §5.8)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from shared.relay.adaptors.openai import request, response
from shared.relay.adaptors.openai.stream import OpenAIStream
from shared.relay.types import ConvertedResponse, RelayMeta, UpstreamRequest


class OpenAIAdaptor:
    name = "openai"  # no `prepare`: OpenAI-compatible upstreams fetch image URLs themselves

    def build_request(self, meta: RelayMeta, body: dict[str, Any] | None, raw: bytes) -> UpstreamRequest:
        route = request.route_of(meta.channel_type)
        url = request.request_url(meta, route)
        payload = None if body is None else request.request_body(meta, body)
        headers = request.request_headers(meta, converted=payload is not None, route=route)
        return UpstreamRequest("POST", url, headers, payload)

    def convert_response(self, meta: RelayMeta, status: int, headers: Mapping[str, str], body: bytes) -> ConvertedResponse:
        return response.convert(meta.mode, status, headers, body)

    def stream_converter(self, meta: RelayMeta) -> OpenAIStream:
        return OpenAIStream(meta.mode)
