"""The Vertex AI adaptor (channel type 42): Gemini and Claude models of a Google Cloud project.

Gemini models take Gemini's generateContent conversion, Claude models (`claude-…@date` names)
Anthropic's Messages conversion through rawPredict; both under
`/v1/projects/{project}/locations/{region}/publishers/{google|anthropic}/models/{model}:{action}`,
with a service-account OAuth token (token.py) fetched in the adaptor's own exchange.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import orjson

from shared.relay import modes
from shared.relay.adaptors.anthropic import request as anthropic_request
from shared.relay.adaptors.anthropic import response as anthropic_response
from shared.relay.adaptors.anthropic.stream import AnthropicStream
from shared.relay.adaptors.common import json_body, path_segment, unsupported_mode
from shared.relay.adaptors.gemini import request as gemini_request
from shared.relay.adaptors.gemini import response as gemini_response
from shared.relay.adaptors.gemini.stream import GeminiStream
from shared.relay.adaptors.images import prepare_images
from shared.relay.adaptors.vertexai.token import TOKENS
from shared.relay.types import ConvertedResponse, RelayError, RelayMeta, StreamConverter, UpstreamRequest
from shared.relay.upstream import UpstreamClient, UpstreamResponse

ANTHROPIC_VERSION = "vertex-2023-10-16"


def is_claude(model: str) -> bool:
    return model.startswith("claude")


def settings(meta: RelayMeta) -> tuple[str, str, str]:
    """(region, project id, service-account JSON): the channel config's `region`,
    `vertex_ai_project_id`, `vertex_ai_adc`, else the key `region|project|json` the console composes."""
    region, project, adc = (str(meta.config.get(k) or "") for k in ("region", "vertex_ai_project_id", "vertex_ai_adc"))
    if not (region and project and adc):
        parts = meta.api_key.split("|", 2)
        if len(parts) != 3 or not all(parts):
            raise RelayError(
                400, "Vertex AI channel needs region, vertex_ai_project_id and vertex_ai_adc in its config", code="invalid_channel_key"
            )
        region, project, adc = parts
    return region, project, adc


def request_url(meta: RelayMeta, region: str, project: str) -> str:
    claude = is_claude(meta.actual_model)
    if claude:
        action = "streamRawPredict?alt=sse" if meta.is_stream else "rawPredict"
    else:
        action = "streamGenerateContent?alt=sse" if meta.is_stream else "generateContent"
    host = "aiplatform.googleapis.com" if region == "global" else f"{path_segment(region)}-aiplatform.googleapis.com"
    base = meta.base_url or f"https://{host}"
    publisher = "anthropic" if claude else "google"
    return (
        f"{base}/v1/projects/{path_segment(project)}/locations/{path_segment(region)}"
        # `@` stays literal as Google writes it (claude-…@20241022); it is a legal path character
        f"/publishers/{publisher}/models/{path_segment(meta.actual_model).replace('%40', '@')}:{action}"
    )


class VertexAIAdaptor:
    name = "vertexai"

    prepare = staticmethod(prepare_images)

    def build_request(self, meta: RelayMeta, body: dict[str, Any] | None, raw: bytes) -> UpstreamRequest:
        if meta.mode != modes.CHAT:
            raise unsupported_mode(meta.mode)
        body = json_body(body, raw)
        region, project, _ = settings(meta)
        if is_claude(meta.actual_model):
            converted = anthropic_request.convert(body)
            converted.pop("model", None)  # named in the URL
            converted["anthropic_version"] = ANTHROPIC_VERSION
        else:
            converted = gemini_request.convert_chat(meta, body)
        headers = {"Content-Type": "application/json"}
        if meta.is_stream:
            headers["Accept"] = "text/event-stream"
        return UpstreamRequest("POST", request_url(meta, region, project), headers, orjson.dumps(converted))

    async def exchange(self, upstream: UpstreamClient, meta: RelayMeta, request: UpstreamRequest) -> UpstreamResponse:
        _, _, adc = settings(meta)
        token = await TOKENS.token(adc)
        request.headers["Authorization"] = f"Bearer {token}"
        return await upstream.send(request, request.body or b"")

    def convert_response(self, meta: RelayMeta, status: int, headers: Mapping[str, str], body: bytes) -> ConvertedResponse:
        if is_claude(meta.actual_model):
            return anthropic_response.convert(status, body)
        return gemini_response.convert_chat(meta, status, body)

    def stream_converter(self, meta: RelayMeta) -> StreamConverter:
        if is_claude(meta.actual_model):
            return AnthropicStream(meta)
        return GeminiStream(meta.api_key)
