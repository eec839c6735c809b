"""The Anthropic adaptor (channel type 14): OpenAI chat <-> Messages API."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import orjson

from shared.relay import modes
from shared.relay.adaptors.anthropic import request, response
from shared.relay.adaptors.anthropic.stream import AnthropicStream
from shared.relay.adaptors.common import conversion_error, unsupported_mode
from shared.relay.adaptors.images import prepare_images
from shared.relay.types import ConvertedResponse, RelayMeta, UpstreamRequest


class AnthropicAdaptor:
    name = "anthropic"

    prepare = staticmethod(prepare_images)

    def build_request(self, meta: RelayMeta, body: dict[str, Any] | None, raw: bytes) -> UpstreamRequest:
        if meta.mode != modes.CHAT:
            raise unsupported_mode(meta.mode)
        if body is None:
            try:
                body = orjson.loads(raw)
            except orjson.JSONDecodeError:
                raise conversion_error("request body is not JSON") from None
            if not isinstance(body, dict):
                raise conversion_error("request body is not a JSON object")
        converted = request.convert(body)
        url = f"{meta.base_url}/v1/messages"
        return UpstreamRequest("POST", url, request.request_headers(meta), orjson.dumps(converted))

    def convert_response(self, meta: RelayMeta, status: int, headers: Mapping[str, str], body: bytes) -> ConvertedResponse:
        return response.convert(status, body)

    def stream_converter(self, meta: RelayMeta) -> AnthropicStream:
        return AnthropicStream(meta)
