"""Spark answers over a WebSocket, not HTTP: this connects, sends the request frame, and hands the
answer frames to the engine as an `UpstreamResponse` whose body is one JSON frame per line, so the
engine's reading, stream relaying and error handling stay the same as for HTTP providers.

The first frame is awaited before the answer is returned: an error there (bad parameters, limits)
becomes an HTTP-like error status, so nothing has reached the client and another channel may be tried.
`websockets` is imported on first use (node memory is measured).
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Mapping
from typing import Any

from shared.relay.adaptors.common import member
from shared.relay.adaptors.xunfei.convert import LAST, error_of, parse_frame
from shared.relay.upstream import UpstreamResponse, UpstreamUnavailable

OPEN_TIMEOUT = 30.0  # seconds for the TCP/TLS connect and the handshake
FRAME_TIMEOUT = 120.0  # seconds without a frame while an answer is awaited
MAX_FRAME = 1 << 20  # bytes per frame (Spark's are a few hundred)
MAX_ANSWER = 16 << 20  # bytes of frames per answer
STREAM_HEADERS = {"Content-Type": "application/x-ndjson"}


class FrameResponse(UpstreamResponse):
    def __init__(self, status: int, first: bytes, ws: Any = None) -> None:
        self.status = status
        self._headers = STREAM_HEADERS if status == 200 else {"Content-Type": "application/json"}
        self._first = first
        self._ws = ws  # None once the answer is complete

    @property
    def headers(self) -> Mapping[str, str]:  # type: ignore[override]
        return self._headers

    async def chunks(self) -> AsyncIterator[bytes]:
        frame = self._first
        total = len(frame)
        while True:
            yield frame + b"\n"
            if self._ws is None or _is_last(frame):
                break
            frame = await _receive(self._ws)
            total += len(frame)
            if total > MAX_ANSWER:
                raise UpstreamUnavailable(f"answer larger than {MAX_ANSWER} bytes")
        await self._finish()

    async def read(self) -> bytes:
        return b"".join([chunk async for chunk in self.chunks()])

    async def _finish(self) -> None:
        ws, self._ws = self._ws, None
        if ws is not None:
            await ws.close()

    def close(self) -> None:
        ws, self._ws = self._ws, None
        if ws is not None:
            ws.transport.abort()  # left before the last frame: drop the connection


def _is_last(frame: bytes) -> bool:
    parsed = parse_frame(frame) or {}
    header = member(parsed, "header")
    return header.get("status") == LAST or bool(header.get("code"))


async def _receive(ws: Any) -> bytes:
    from websockets.exceptions import ConnectionClosed

    try:
        message = await asyncio.wait_for(ws.recv(), FRAME_TIMEOUT)
    except (TimeoutError, ConnectionClosed, OSError) as exc:
        ws.transport.abort()
        raise UpstreamUnavailable(f"Spark connection ended: {exc or 'timeout'}") from exc
    return message.encode() if isinstance(message, str) else bytes(message)


async def exchange(url: str, request_frame: bytes) -> FrameResponse:
    """Connect, send the request frame and wait for the first answer frame."""
    from websockets.asyncio.client import connect
    from websockets.exceptions import InvalidHandshake, InvalidStatus

    try:
        ws = await connect(url, open_timeout=OPEN_TIMEOUT, max_size=MAX_FRAME, compression=None)
    except InvalidStatus as exc:  # the signature or the date was refused
        return FrameResponse(exc.response.status_code, bytes(exc.response.body or b"")[:MAX_FRAME])
    except (TimeoutError, InvalidHandshake, OSError) as exc:
        raise UpstreamUnavailable(f"Spark connect failed: {exc or 'timeout'}") from exc
    try:
        await ws.send(request_frame.decode())
        first = await _receive(ws)
    except BaseException:
        ws.transport.abort()
        raise
    error = error_of(member(parse_frame(first) or {}, "header"))
    if error is not None:
        ws.transport.abort()
        return FrameResponse(error.status, first)
    return FrameResponse(200, first, ws)
