"""The Cloudflare Workers AI adaptor (channel type 37)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import orjson

from shared.relay import modes
from shared.relay.adaptors.cloudflare import request, response
from shared.relay.adaptors.common import json_body
from shared.relay.adaptors.openai import request as openai_request
from shared.relay.adaptors.openai import response as openai_response
from shared.relay.adaptors.openai.stream import OpenAIStream
from shared.relay.types import ConvertedResponse, RelayError, RelayMeta, StreamConverter, UpstreamRequest


class CloudflareAdaptor:
    name = "cloudflare"

    def build_request(self, meta: RelayMeta, body: dict[str, Any] | None, raw: bytes) -> UpstreamRequest:
        url = request.request_url(meta)  # raises for modes Workers AI does not serve here
        payload = json_body(body, raw)
        if meta.mode == modes.COMPLETIONS:
            converted = orjson.dumps(request.completion_body(payload))
        else:  # OpenAI-compatible: sent as it came, a stream asking for usage
            converted = openai_request.request_body(meta, payload)
        headers = {"Content-Type": "application/json", "Authorization": f"Bearer {meta.api_key}"}
        if meta.is_stream:
            headers["Accept"] = "text/event-stream"
        return UpstreamRequest("POST", url, headers, converted)

    def convert_response(self, meta: RelayMeta, status: int, headers: Mapping[str, str], body: bytes) -> ConvertedResponse:
        if meta.mode == modes.COMPLETIONS:
            return response.convert_run(meta, status, body)
        return openai_response.convert(meta.mode, status, headers, body)

    def stream_converter(self, meta: RelayMeta) -> StreamConverter:
        if meta.mode == modes.COMPLETIONS:
            return response.RunStream(meta)
        return OpenAIStream(meta.mode)

    def upstream_error(self, status: int, body: bytes) -> RelayError:
        return response.upstream_error(status, body)
