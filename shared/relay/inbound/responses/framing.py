"""The ASGI `send` of a /v1/responses request: what the chat pipeline writes, in the Responses format.

The chat pipeline (shared.relay.text) answers every attempt as it answers /v1/chat/completions, and
writes into this object instead of the client. A converted attempt's chat answer becomes a response
object, its chat chunks Responses events; a passed-through attempt already yields Responses events,
which only get their `event:` lines. Either way a stream ends with a terminal event and never with
`[DONE]`. Writing the same bytes a chat client would get keeps billing, limits, QUOTA_STRICT and
the disconnect rules of the chat pipeline for this format unchanged.
"""

from __future__ import annotations

import re
from collections.abc import Awaitable, Callable
from typing import Any

import orjson
from starlette.types import Message, Send

from shared.relay.adaptors.openai.response import usage_of as chat_usage
from shared.relay.inbound.responses.answer import convert_answer
from shared.relay.inbound.responses.stream import ResponsesStream
from shared.relay.types import Usage

CONVERTED, PASSTHROUGH = "converted", "passthrough"
_TYPE = re.compile(rb'^\{"type":"([A-Za-z0-9_.]+)"')
_TERMINAL = {"response.completed", "response.failed", "response.incomplete"}
MAX_BUFFER = 64 * 1024 * 1024  # a partial SSE event longer than this is cut off (never happens with the engine)

Fallback = Callable[[str], Awaitable[Usage]]  # text of the answer -> usage when upstream gave none


class ResponsesSend:
    def __init__(self, send: Send, request: dict[str, Any], response_id: str, fallback: Fallback) -> None:
        self._send = send
        self.request = request
        self.response_id = response_id  # for a converted answer
        self.fallback = fallback
        self.mode = CONVERTED  # set by each attempt before it writes
        self._sse = False
        self._start: Message | None = None
        self._buffer = b""
        self._carry = b""
        self._stream: ResponsesStream | None = None
        self._last_response: dict[str, Any] | None = None  # passthrough: the latest response snapshot
        self._seq = 0
        self._terminal = False

    async def __call__(self, message: Message) -> None:
        if message["type"] == "http.response.start":
            headers = message.get("headers", [])
            self._sse = any(k == b"content-type" and v.startswith(b"text/event-stream") for k, v in headers)
            if self._sse:
                await self._send(message)
                if self.mode == CONVERTED:
                    self._stream = ResponsesStream(self.request, self.response_id, str(self.request.get("model") or ""))
                    await self._write(self._stream.start(), more=True)
            else:
                self._start = message
            return
        if message["type"] != "http.response.body":
            await self._send(message)
            return
        more = bool(message.get("more_body", False))
        if self._sse:
            await self._stream_body(message.get("body", b""), more)
        else:
            self._buffer += message.get("body", b"")
            if not more:
                await self._whole()

    # -- whole answers ------------------------------------------------------------------------

    async def _whole(self) -> None:
        assert self._start is not None
        body, start = self._buffer, self._start
        if self.mode == CONVERTED and start["status"] == 200:
            try:
                chat = orjson.loads(body)
            except orjson.JSONDecodeError:
                chat = None  # the adaptor read it already; never expected, answered as an empty reply
            if not isinstance(chat, dict):
                chat = {}
            usage = chat_usage(chat.get("usage"))
            if usage is None:
                usage = await self.fallback(_chat_text(chat))
            body = orjson.dumps(convert_answer(chat, self.request, self.response_id, usage))
            headers = [(k, v) for k, v in start.get("headers", []) if k not in (b"content-length", b"content-type")]
            start = {**start, "headers": [*headers, (b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())]}
        await self._send(start)
        await self._send({"type": "http.response.body", "body": body, "more_body": False})

    # -- streams ------------------------------------------------------------------------------

    async def _stream_body(self, data: bytes, more: bool) -> None:
        pieces = (self._carry + data).split(b"\n\n")
        self._carry = pieces.pop()[-MAX_BUFFER:]
        out: list[bytes] = []
        for piece in pieces:
            if piece.startswith(b"data: "):
                out += await self._payload(piece[6:])
        if not more:
            out += await self._close()
        if out or not more:
            await self._send({"type": "http.response.body", "body": b"".join(out), "more_body": more})

    async def _payload(self, payload: bytes) -> list[bytes]:
        if self.mode == CONVERTED:
            assert self._stream is not None
            if payload.startswith(b"[DONE]"):
                return await self._end_converted()
            try:
                chunk = orjson.loads(payload)
            except orjson.JSONDecodeError:
                return []
            return _frames(self._stream.feed(chunk)) if isinstance(chunk, dict) else []
        return self._passthrough(payload)

    async def _end_converted(self) -> list[bytes]:
        stream = self._stream
        assert stream is not None
        usage = None
        if stream.usage is None and stream.finish_reason is not None:
            usage = await self.fallback(stream.text())
        return _frames(stream.end(usage))

    def _passthrough(self, payload: bytes) -> list[bytes]:
        if self._terminal or payload.startswith(b"[DONE]"):
            return []
        match = _TYPE.match(payload)
        kind = match.group(1).decode() if match else None
        event: Any = None
        if kind is None or kind in _TERMINAL or kind in ("response.created", "response.in_progress"):
            try:
                event = orjson.loads(payload)
            except orjson.JSONDecodeError:
                return []
            if not isinstance(event, dict):
                return []
            if event.get("object") == "chat.completion.chunk":  # QUOTA_STRICT ended the stream
                return self._synthesize("response.incomplete", {"reason": "max_output_tokens"}, None)
            kind = str(event.get("type") or "")
            if isinstance(event.get("response"), dict):
                self._last_response = event["response"]
        if event is not None and isinstance(event.get("sequence_number"), int):
            self._seq = event["sequence_number"] + 1
        else:
            self._seq += 1
        self._terminal = kind in _TERMINAL
        return [b"event: " + kind.encode() + b"\ndata: " + payload + b"\n\n"]

    def _synthesize(self, kind: str, incomplete: dict[str, Any] | None, error: dict[str, Any] | None) -> list[bytes]:
        response = dict(self._last_response or {"id": self.response_id, "object": "response", "output": []})
        response["status"] = kind.removeprefix("response.")
        response["incomplete_details"] = incomplete
        response["error"] = error
        event = {"type": kind, "sequence_number": self._seq, "response": response}
        self._terminal = True
        return _frames([event])

    async def _close(self) -> list[bytes]:
        if self.mode == CONVERTED:
            return await self._end_converted() if self._stream is not None and not self._stream.ended else []
        if self._terminal:
            return []
        return self._synthesize(
            "response.failed", None, {"code": "server_error", "message": "the upstream stream ended before the response was complete"}
        )

    async def _write(self, events: list[dict[str, Any]], more: bool) -> None:
        await self._send({"type": "http.response.body", "body": b"".join(_frames(events)), "more_body": more})


def _frames(events: list[dict[str, Any]]) -> list[bytes]:
    return [b"event: " + e["type"].encode() + b"\ndata: " + orjson.dumps(e) + b"\n\n" for e in events]


def _chat_text(chat: dict[str, Any]) -> str:
    choices = chat.get("choices")
    parts: list[str] = []
    for choice in choices if isinstance(choices, list) else ():
        message = choice.get("message") if isinstance(choice, dict) else None
        if isinstance(message, dict):
            if isinstance(message.get("content"), str):
                parts.append(message["content"])
            for call in message.get("tool_calls") or ():
                function = call.get("function") if isinstance(call, dict) else None
                if isinstance(function, dict) and isinstance(function.get("arguments"), str):
                    parts.append(function["arguments"])
    return "".join(parts)
