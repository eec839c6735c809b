"""The DeepL adaptor (channel type 38): chat -> /v2/translate; a stream is the one answer as one chunk."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

import orjson

from shared.relay import modes
from shared.relay.adaptors.common import json_body, unsupported_mode
from shared.relay.adaptors.deepl import convert
from shared.relay.types import ConvertedResponse, RelayError, RelayMeta, UpstreamRequest, Usage

MAX_ANSWER = 4 << 20  # DeepL answers one JSON document; a stream collects it (bounded) before converting


class DeepLStream:
    """DeepL has no stream: the JSON answer is collected and sent as one chunk (as One API does)."""

    def __init__(self, meta: RelayMeta) -> None:
        self.usage: Usage | None = None
        self.text_parts: list[str] = []
        self.saw_done = False
        self._model = meta.actual_model
        self._lines: list[bytes] = []
        self._size = 0

    def feed(self, line: bytes) -> Iterable[bytes]:
        self._size += len(line) + 1
        if self._size <= MAX_ANSWER:
            self._lines.append(line)
        return ()

    def finish(self) -> Iterable[bytes]:
        if self._size > MAX_ANSWER:
            error = RelayError(502, "upstream answer too large", "upstream_error", code="upstream_answer_too_large")
            return (orjson.dumps(error.body()),)
        try:
            text, self.usage = convert.parse(200, b"\n".join(self._lines))
        except RelayError as exc:
            return (orjson.dumps(exc.body()),)
        self.text_parts.append(text)
        return (orjson.dumps(convert.chunk(self._model, text)),)


class DeepLAdaptor:
    name = "deepl"
    json_stream = True  # the engine hands a stream request's JSON answer to DeepLStream

    def build_request(self, meta: RelayMeta, body: dict[str, Any] | None, raw: bytes) -> UpstreamRequest:
        if meta.mode != modes.CHAT:
            raise unsupported_mode(meta.mode)
        converted = convert.convert_request(meta.actual_model, json_body(body, raw))
        headers = {"Content-Type": "application/json", "Authorization": f"DeepL-Auth-Key {meta.api_key}"}
        return UpstreamRequest("POST", f"{meta.base_url}/v2/translate", headers, orjson.dumps(converted))

    def convert_response(self, meta: RelayMeta, status: int, headers: Mapping[str, str], body: bytes) -> ConvertedResponse:
        text, usage = convert.parse(status, body)
        answer = convert.completion(meta.actual_model, text, usage)
        return ConvertedResponse(status=status, body=orjson.dumps(answer), usage=usage, text=text)

    def stream_converter(self, meta: RelayMeta) -> DeepLStream:
        return DeepLStream(meta)

    def upstream_error(self, status: int, body: bytes) -> RelayError:
        return convert.upstream_error(status, body)
