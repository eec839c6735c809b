"""The ASGI `send` a Gemini request is answered through: it rewrites what the OpenAI pipeline writes.

Every answer passes here, the relay's own errors included (auth, limits, 413, upstream errors), so a
Gemini client always reads Google's shapes: a JSON answer is collected whole and converted, an SSE
answer is converted event by event as it is written.
"""

from __future__ import annotations

from typing import Any

import orjson
from starlette.types import Message, Send

from shared.relay.inbound.gemini.answer import embed_answer, generate_answer, google_error
from shared.relay.inbound.gemini.stream import GeminiStreamWriter

GENERATE, EMBED, BATCH_EMBED, AS_IS = "generate", "embed", "batch_embed", "as_is"


class GeminiReply:
    def __init__(self, send: Send) -> None:
        self._send = send
        self.kind = AS_IS  # set once the action is known; errors are converted whatever it is
        self.model = ""
        self._status = 200
        self._headers: list[tuple[bytes, bytes]] = []
        self._stream: GeminiStreamWriter | None = None
        self._body: list[bytes] = []

    def expect(self, kind: str, model: str) -> None:
        self.kind, self.model = kind, model

    async def __call__(self, message: Message) -> None:
        if message["type"] == "http.response.start":
            self._status = message["status"]
            self._headers = [(k, v) for k, v in message.get("headers", ()) if k.lower() != b"content-length"]
            if any(k.lower() == b"content-type" and v.startswith(b"text/event-stream") for k, v in self._headers):
                self._stream = GeminiStreamWriter(self.model)
                await self._send(message)
            return
        if message["type"] != "http.response.body":
            await self._send(message)
            return
        body, more = message.get("body", b""), message.get("more_body", False)
        if self._stream is not None:
            out = self._stream.feed(body)
            if not more:
                out += self._stream.finish()
            if out or not more:
                await self._send({"type": "http.response.body", "body": out, "more_body": more})
            return
        self._body.append(body)
        if not more:
            await self._send_whole(b"".join(self._body))

    async def _send_whole(self, raw: bytes) -> None:
        status = self._status
        try:
            payload = orjson.loads(raw) if raw else None
        except orjson.JSONDecodeError:
            payload = None
        if status >= 400 or (isinstance(payload, dict) and "error" in payload and self.kind != AS_IS):
            converted: Any = google_error(status if status >= 400 else 500, payload)
        elif self.kind == GENERATE and isinstance(payload, dict) and "candidates" in payload:
            converted = None  # a Gemini channel's own answer (shared.relay.inbound.gemini.passthrough)
        elif self.kind == GENERATE:
            converted = generate_answer(payload, self.model)
        elif self.kind in (EMBED, BATCH_EMBED):
            converted = embed_answer(payload, self.kind == BATCH_EMBED)
        else:
            converted = None
        body = raw if converted is None else orjson.dumps(converted)
        headers = [(k, v) for k, v in self._headers if k.lower() != b"content-type"]
        headers += [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())]
        await self._send({"type": "http.response.start", "status": status, "headers": headers})
        await self._send({"type": "http.response.body", "body": body})
