"""The Ollama adaptor (channel type 30): OpenAI chat/embeddings <-> the native /api/chat and /api/embed."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import orjson

from shared.relay import modes
from shared.relay.adaptors.common import json_body
from shared.relay.adaptors.images import prepare_images
from shared.relay.adaptors.ollama import request, response
from shared.relay.adaptors.ollama.stream import OllamaStream
from shared.relay.types import ConvertedResponse, RelayMeta, UpstreamRequest


class OllamaAdaptor:
    name = "ollama"

    prepare = staticmethod(prepare_images)  # image URLs -> base64 `images`

    def build_request(self, meta: RelayMeta, body: dict[str, Any] | None, raw: bytes) -> UpstreamRequest:
        url = request.request_url(meta)  # raises for modes Ollama does not serve
        body = json_body(body, raw)
        if meta.mode == modes.EMBEDDINGS:
            converted = request.convert_embeddings(body)
        else:
            converted = request.convert_chat(body)
        return UpstreamRequest("POST", url, request.request_headers(meta), orjson.dumps(converted))

    def convert_response(self, meta: RelayMeta, status: int, headers: Mapping[str, str], body: bytes) -> ConvertedResponse:
        if meta.mode == modes.EMBEDDINGS:
            return response.convert_embeddings(meta, status, body)
        return response.convert_chat(meta, status, body)

    def stream_converter(self, meta: RelayMeta) -> OllamaStream:
        return OllamaStream(meta)
