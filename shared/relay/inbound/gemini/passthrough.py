"""A Gemini request to a Gemini channel goes as the client sent it (safety settings, thinking
config, cached content and every field the gateway does not know are kept), and the answer comes back
unchanged. Billing is the converted path's: One API counts Gemini's completion text locally.

Only generateContent and streamGenerateContent pass through; a channel with a forced system prompt
is served by conversion, so that its prompt is applied.
"""

from __future__ import annotations

import copy
from collections.abc import Iterable, Mapping
from typing import Any

import orjson

from shared.catalog.channel_types import api_type
from shared.redact import redact_error
from shared.relay.adaptors.common import path_segment, sse_data
from shared.relay.adaptors.gemini import request as gemini_request
from shared.relay.adaptors.gemini import response as gemini_response
from shared.relay.adaptors.spec import API_GEMINI
from shared.relay.types import Adaptor, ConvertedResponse, RelayMeta, UpstreamRequest, Usage
from shared.snapshot import ChannelEntry


class GeminiInbound:
    """What a Gemini request keeps for the attempts: its original body and action. Gemini channels
    are recognised here (`adaptor_for`) and the answer is converted by the route's `send` wrapper
    (shared.relay.inbound.gemini.reply), so the seam's native/Converting path is not used."""

    native_api_type: int | None = None

    def __init__(self, body: dict[str, Any], action: str) -> None:
        self.body = body
        self.action = action

    def adaptor_for(self, channel: ChannelEntry, converting: Adaptor) -> Adaptor:
        if api_type(channel.type) == API_GEMINI and not channel.system_prompt:
            return GeminiPassthrough(self)
        return converting


class GeminiPassthrough:
    name = "gemini-passthrough"

    def __init__(self, inbound: GeminiInbound) -> None:
        self.inbound = inbound

    def build_request(self, meta: RelayMeta, body: dict[str, Any] | None, raw: bytes) -> UpstreamRequest:
        action = "streamGenerateContent?alt=sse" if meta.is_stream else "generateContent"
        version = path_segment(gemini_request.api_version(meta))
        url = f"{meta.base_url}/{version}/models/{path_segment(meta.actual_model)}:{action}"
        sent = self.inbound.body
        cap = body.get("max_tokens") if body is not None else None  # QUOTA_STRICT may have lowered it
        if isinstance(cap, int):
            sent = copy.deepcopy(sent)
            config = sent.get("generationConfig")
            sent["generationConfig"] = {**(config if isinstance(config, dict) else {}), "maxOutputTokens": cap}
            sent.pop("generation_config", None)
        return UpstreamRequest("POST", url, gemini_request.request_headers(meta), orjson.dumps(sent))

    def convert_response(self, meta: RelayMeta, status: int, headers: Mapping[str, str], body: bytes) -> ConvertedResponse:
        doc = gemini_response.parse(status, body)  # raises the upstream's error
        text = "".join(
            gemini_response.parts_text(gemini_response.candidate_parts(c)) for c in doc.get("candidates") or [] if isinstance(c, dict)
        )
        return ConvertedResponse(status=status, body=body, usage=None, text=text)

    def stream_converter(self, meta: RelayMeta) -> PassthroughStream:
        return PassthroughStream(meta.api_key)


class PassthroughStream:
    """Gemini SSE events relayed as they come; their text is kept for the completion count."""

    def __init__(self, key: str) -> None:
        self.usage: Usage | None = None
        self.text_parts: list[str] = []
        self.saw_done = True  # Gemini streams have no [DONE]; none is added
        self._key = key

    def feed(self, line: bytes) -> Iterable[bytes]:
        payload = sse_data(line)
        if not payload:
            return ()
        try:
            doc = orjson.loads(payload)
        except orjson.JSONDecodeError:
            return ()
        if not isinstance(doc, dict):
            return ()
        if isinstance(doc.get("error"), dict):
            return (orjson.dumps({"error": redact_error(doc["error"], self._key)}),)
        for candidate in doc.get("candidates") or []:
            if isinstance(candidate, dict):
                self.text_parts.append(gemini_response.parts_text(gemini_response.candidate_parts(candidate)))
        return (payload,)

    def finish(self) -> Iterable[bytes]:
        return ()
