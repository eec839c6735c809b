"""The open-streams cell of `make bench`: a node's RSS while it holds many SSE streams open.

nginx serves a long SSE answer at a trickle (`limit_rate`, after a first burst that carries the
headers and the first events), so every stream stays open. A raw-socket asyncio client opens the
streams through the node and waits until each one has its 200 and its first event (a condition, not
a sleep); then the node's RSS is read and the sockets are closed.
"""

from __future__ import annotations

import asyncio
import json
import resource
import time
from collections.abc import Callable

SLOW_EVENTS = 400  # ~170 bytes each: at SLOW_RATE a stream would last far longer than the cell
SLOW_RATE = 64  # bytes per second per stream after the first SLOW_BURST bytes
SLOW_BURST = 1024
FIRST_EVENT = b"slow0 "  # the first event's text, as the client must see it through the node
CONNECTING = 100  # connects in flight at once (the node's accept backlog is larger)


def slow_sse() -> str:
    events = []
    for i in range(SLOW_EVENTS):
        chunk = {
            "id": "chatcmpl-bench",
            "object": "chat.completion.chunk",
            "created": 1,
            "model": "bench-slow",
            "choices": [{"index": 0, "delta": {"content": f"slow{i} "}, "finish_reason": None}],
        }
        events.append("data: " + json.dumps(chunk, separators=(",", ":")) + "\n\n")
    events.append("data: [DONE]\n\n")
    return "".join(events)


def nginx_location() -> str:
    """The fake upstream's location for the slow stream (inside its `server` block)."""
    return (
        "location /slow/ { default_type text/event-stream; limit_rate_after "
        f"{SLOW_BURST}; limit_rate {SLOW_RATE}; error_page 405 =200 $uri; }}"
    )


def raise_fd_limit(needed: int) -> int:
    """Raise this process's soft RLIMIT_NOFILE towards the hard limit (children inherit it)."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    want = needed if hard == resource.RLIM_INFINITY else min(max(needed, soft), hard)
    if want > soft:
        resource.setrlimit(resource.RLIMIT_NOFILE, (want, hard))
    return resource.getrlimit(resource.RLIMIT_NOFILE)[0]


class StreamError(RuntimeError):
    pass


async def _open_one(port: int, request: bytes, gate: asyncio.Semaphore) -> asyncio.StreamWriter:
    async with gate:
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
    try:
        writer.write(request)
        buffer = b""
        while b"\r\n\r\n" not in buffer:
            data = await reader.read(4096)
            if not data:
                raise StreamError("connection closed before the headers")
            buffer += data
        head, _, buffer = buffer.partition(b"\r\n\r\n")
        if not head.startswith((b"HTTP/1.1 200", b"HTTP/1.0 200")):
            raise StreamError(f"not a 200: {head.splitlines()[0]!r}")
        while FIRST_EVENT not in buffer:
            data = await reader.read(4096)
            if not data:
                raise StreamError("stream ended before its first event")
            buffer += data
        return writer
    except BaseException:
        writer.close()
        raise


async def _hold_streams(port: int, body: str, token: str, count: int, timeout: float, measure: Callable[[], float]) -> dict:
    raw = body.encode()
    request = (
        f"POST /v1/chat/completions HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nAuthorization: Bearer {token}\r\n"
        f"Content-Type: application/json\r\nContent-Length: {len(raw)}\r\n\r\n"
    ).encode() + raw
    gate = asyncio.Semaphore(CONNECTING)
    started = time.monotonic()
    tasks = [asyncio.ensure_future(_open_one(port, request, gate)) for _ in range(count)]
    done, pending = await asyncio.wait(tasks, timeout=timeout)
    for task in pending:
        task.cancel()
    await asyncio.gather(*pending, return_exceptions=True)
    writers = [t.result() for t in done if not t.cancelled() and t.exception() is None]
    errors = [repr(t.exception()) for t in done if not t.cancelled() and t.exception() is not None]
    ready_s = time.monotonic() - started
    result = {"open": len(writers), "failed": len(errors) + len(pending), "ready_s": round(ready_s, 2)}
    if errors:
        result["first_error"] = errors[0]
    if len(writers) == count:  # the condition: every stream has its 200 and first event
        result["rss_mb"] = measure()
    for writer in writers:
        writer.close()
    await asyncio.gather(*(w.wait_closed() for w in writers), return_exceptions=True)
    return result


def hold_streams(port: int, body: str, token: str, count: int, measure: Callable[[], float], timeout: float = 90.0) -> dict:
    """Open `count` streams through the node on `port`; `measure()` runs once all are open."""
    return asyncio.run(_hold_streams(port, body, token, count, timeout, measure))
