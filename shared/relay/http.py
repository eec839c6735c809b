"""Raw ASGI plumbing for the relay: reading a bounded body, answering JSON, streaming SSE.

The relay skips a framework's request/response objects on purpose: it is the hot path.
"""

from __future__ import annotations

import gzip
import zlib
from collections.abc import Iterable
from typing import Any

import orjson
from starlette.types import Receive, Scope, Send

from shared.relay.types import RelayError

CORS_HEADERS = [
    (b"access-control-allow-origin", b"*"),
    (b"access-control-allow-credentials", b"true"),
]
SSE_HEADERS = [
    (b"content-type", b"text/event-stream"),
    (b"cache-control", b"no-cache"),
    (b"x-accel-buffering", b"no"),
]


class BodyTooLarge(Exception):
    pass


class BadGzip(Exception):
    pass


def header(scope: Scope, name: bytes) -> str:
    for key, value in scope["headers"]:
        if key == name:
            return value.decode("latin-1")
    return ""


def headers_dict(scope: Scope) -> dict[str, str]:
    return {k.decode("latin-1"): v.decode("latin-1") for k, v in scope["headers"]}


async def read_body(scope: Scope, receive: Receive, limit: int) -> bytes:
    """The whole request body, at most `limit` bytes (gzip request bodies are inflated, as One API does)."""
    chunks: list[bytes] = []
    size = 0
    more = True
    while more:
        message = await receive()
        if message["type"] == "http.disconnect":
            break
        chunk = message.get("body", b"")
        size += len(chunk)
        if size > limit:
            raise BodyTooLarge()
        chunks.append(chunk)
        more = message.get("more_body", False)
    body = b"".join(chunks)
    if header(scope, b"content-encoding").lower() == "gzip":
        try:
            inflater = zlib.decompressobj(16 + zlib.MAX_WBITS)
            body = inflater.decompress(body, limit + 1)
            if len(body) > limit or inflater.unconsumed_tail:
                raise BodyTooLarge()
        except (zlib.error, gzip.BadGzipFile) as exc:
            raise BadGzip() from exc
    return body


async def send_bytes(send: Send, status: int, body: bytes, headers: Iterable[tuple[bytes, bytes]] = ()) -> None:
    raw = [*CORS_HEADERS, *headers, (b"content-length", str(len(body)).encode())]
    await send({"type": "http.response.start", "status": status, "headers": raw})
    await send({"type": "http.response.body", "body": body})


async def send_json(send: Send, status: int, payload: Any) -> None:
    await send_bytes(send, status, orjson.dumps(payload), [(b"content-type", b"application/json")])


async def send_error(send: Send, error: RelayError, request_id: str) -> None:
    headers = [(b"content-type", b"application/json"), *error.headers]
    await send_bytes(send, error.status, orjson.dumps(error.body(request_id)), headers)


class ClientStream:
    """An SSE answer to the client; remembers whether it started and whether the client left."""

    def __init__(self, send: Send) -> None:
        self._send = send
        self.started = False
        self.disconnected = False

    async def start(self, status: int = 200) -> None:
        if not self.started:
            self.started = True
            await self._send({"type": "http.response.start", "status": status, "headers": [*CORS_HEADERS, *SSE_HEADERS]})

    async def event(self, payload: bytes) -> None:
        await self.write(b"data: " + payload + b"\n\n")

    async def write(self, data: bytes) -> None:
        if self.disconnected:
            return
        try:
            await self._send({"type": "http.response.body", "body": data, "more_body": True})
        except OSError:
            self.disconnected = True

    async def end(self) -> None:
        if self.disconnected:
            return
        try:
            await self._send({"type": "http.response.body", "body": b"", "more_body": False})
        except OSError:
            self.disconnected = True
