"""The Gemini adaptor (channel type 24): OpenAI chat/embeddings <-> Gemini generateContent."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import orjson

from shared.relay import modes
from shared.relay.adaptors.common import conversion_error
from shared.relay.adaptors.gemini import request, response
from shared.relay.adaptors.gemini.stream import GeminiStream
from shared.relay.adaptors.images import prepare_images
from shared.relay.types import ConvertedResponse, RelayMeta, UpstreamRequest


class GeminiAdaptor:
    name = "gemini"

    prepare = staticmethod(prepare_images)

    def build_request(self, meta: RelayMeta, body: dict[str, Any] | None, raw: bytes) -> UpstreamRequest:
        url = request.request_url(meta)  # raises for modes Gemini does not serve
        if body is None:
            try:
                body = orjson.loads(raw)
            except orjson.JSONDecodeError:
                raise conversion_error("request body is not JSON") from None
            if not isinstance(body, dict):
                raise conversion_error("request body is not a JSON object")
        if meta.mode == modes.EMBEDDINGS:
            converted = request.convert_embeddings(meta, body)
        else:
            converted = request.convert_chat(meta, body)
        return UpstreamRequest("POST", url, request.request_headers(meta), orjson.dumps(converted))

    def convert_response(self, meta: RelayMeta, status: int, headers: Mapping[str, str], body: bytes) -> ConvertedResponse:
        if meta.mode == modes.EMBEDDINGS:
            return response.convert_embeddings(meta, status, body)
        return response.convert_chat(meta, status, body)

    def stream_converter(self, meta: RelayMeta) -> GeminiStream:
        return GeminiStream(meta.api_key)
