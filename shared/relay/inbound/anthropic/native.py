"""Anthropic client, Anthropic channel: the request passes through (fields the gateway does not know,
such as cache_control, kept), and so does the answer, byte for byte; usage is read on the way."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

import orjson

from shared.redact import redact_error
from shared.relay.adaptors.anthropic.request import request_headers
from shared.relay.adaptors.anthropic.response import anthropic_usage
from shared.relay.adaptors.anthropic.stream import AnthropicStream
from shared.relay.adaptors.common import conversion_error
from shared.relay.adaptors.errors import error_from_object
from shared.relay.inbound.anthropic.errors import upstream_broke_off
from shared.relay.inbound.anthropic.stream import frame
from shared.relay.types import ConvertedResponse, RelayError, RelayMeta, UpstreamRequest, Usage


def native_body(original: dict[str, Any], chat: dict[str, Any], actual_model: str, system_prompt: str) -> dict[str, Any]:
    """The client's body with what the gateway decides: the mapped model, the max_tokens the
    balance covers (QUOTA_STRICT caps the chat request's), the channel's forced system prompt."""
    body = {**original, "model": actual_model}
    if "max_tokens" in chat:
        body["max_tokens"] = chat["max_tokens"]
    if system_prompt:
        body["system"] = system_prompt
    return body


class NativeAdaptor:
    name = "anthropic-native"

    def build_request(self, meta: RelayMeta, body: dict[str, Any] | None, raw: bytes) -> UpstreamRequest:
        if body is None:
            raise conversion_error("request body is not JSON")
        headers = request_headers(meta)
        beta = meta.client_headers.get("anthropic-beta")
        if beta:
            headers["anthropic-beta"] = beta  # the client's features (prompt caching, 1M context, ...)
        else:
            headers.pop("anthropic-beta", None)
        return UpstreamRequest("POST", f"{meta.base_url}/v1/messages", headers, orjson.dumps(body))

    def convert_response(self, meta: RelayMeta, status: int, headers: Mapping[str, str], body: bytes) -> ConvertedResponse:
        try:
            doc = orjson.loads(body)
        except orjson.JSONDecodeError as exc:
            raise RelayError(500, f"unmarshal response body failed: {exc}", code="unmarshal_response_body_failed") from exc
        if not isinstance(doc, dict):
            raise RelayError(500, "unexpected upstream response", code="unmarshal_response_body_failed")
        if isinstance(doc.get("error"), dict):
            raise error_from_object(status, doc["error"])
        text = "".join(str(b.get("text") or "") for b in doc.get("content") or () if isinstance(b, dict) and b.get("type") == "text")
        usage = anthropic_usage(doc.get("usage"))
        return ConvertedResponse(status, body, usage=usage if usage.total_tokens else None, text=text)

    def stream_converter(self, meta: RelayMeta) -> NativeStream:
        return NativeStream(meta)


class NativeStream:
    """Forwards every upstream event as it came (SSE framing included), a whole event at a time, but
    for an error event's message, redacted; the chat-side reader of the Anthropic adaptor keeps usage and text for billing."""

    framed = True
    saw_done = True

    def __init__(self, meta: RelayMeta) -> None:
        self.reader = AnthropicStream(meta)
        self.key = meta.api_key
        self.blocks = 0  # content blocks started so far (Anthropic numbers them 0, 1, ...)
        self.open = False  # whether the last one started is still open
        self.partial: list[bytes] = []  # the lines of the event under way

    @property
    def usage(self) -> Usage | None:
        return self.reader.usage

    @property
    def text_parts(self) -> list[str]:
        return self.reader.text_parts

    def feed(self, line: bytes) -> Iterable[bytes]:
        self.reader.feed(line)
        if b"error" in line and line.startswith(b"data:"):
            line = self._redacted(line)
        # Whole events only: an answer the gateway ends (interrupt, abort) never leaves half of one.
        self.partial.append(line)
        if line:
            return ()
        if self.partial[0] == b"event: content_block_start":
            self.blocks, self.open = self.blocks + 1, True
        elif self.partial[0] == b"event: content_block_stop":
            self.open = False
        event, self.partial = b"\n".join(self.partial) + b"\n", []
        return (event,)

    def _redacted(self, line: bytes) -> bytes:
        """An `error` event with the channel key taken out of its message (an upstream may echo
        the key it was sent; shared.redact). Other lines go as they came."""
        try:
            event = orjson.loads(line[5:])
        except orjson.JSONDecodeError:
            return line
        if not isinstance(event, dict) or event.get("type") != "error":
            return line
        return b"data: " + orjson.dumps({**event, "error": redact_error(event.get("error"), self.key)})

    def interrupt(self, chat_payload: bytes) -> list[bytes]:
        """The gateway ends the answer early (QUOTA_STRICT): a max_tokens ending in Anthropic's words."""
        output = self.usage.completion_tokens if self.usage else 0
        close = [frame({"type": "content_block_stop", "index": self.blocks - 1})] if self.open else []
        self.partial = []
        return [
            *close,
            frame(
                {"type": "message_delta", "delta": {"stop_reason": "max_tokens", "stop_sequence": None}, "usage": {"output_tokens": output}}
            ),
            frame({"type": "message_stop"}),
        ]

    def abort(self, message: str) -> list[bytes]:
        """The upstream broke off mid-answer: Anthropic's mid-stream `error` event ends it."""
        self.partial = []
        return [frame(upstream_broke_off(message))]

    def finish(self) -> Iterable[bytes]:
        """An upstream that ended inside an event: what it sent of it, as it sent it."""
        rest, self.partial = self.partial, []
        return [b"\n".join(rest) + b"\n"] if rest else []
