"""A tiny local HTTP server for the monitors' tests (providers' balance endpoints, a MessagePusher;
every answer programmable per path, every request recorded), and a bounded polling helper.

    with LocalUpstream() as server:
        server.answer("/user/balance", {"balance_infos": [...]})
        ... server.url ..., server.requests
"""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from types import TracebackType
from typing import Any

import orjson
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from tests.support.threaded_server import ThreadedServer


@dataclass
class Seen:
    method: str
    path: str
    query: dict[str, str]
    headers: dict[str, str]
    body: bytes

    def json(self) -> Any:
        return orjson.loads(self.body)


class LocalUpstream:
    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._answers: dict[str, tuple[int, Any]] = {}
        self._seen: list[Seen] = []
        self._runner: ThreadedServer | None = None
        self.port = 0

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def answer(self, path: str, payload: Any, status: int = 200) -> None:
        """Answer requests to `path` with `payload` as JSON and `status` from now on."""
        with self._lock:
            self._answers[path] = (status, payload)

    @property
    def requests(self) -> list[Seen]:
        with self._lock:
            return list(self._seen)

    def reset(self) -> None:
        with self._lock:
            self._answers.clear()
            self._seen.clear()

    async def _handle(self, request: Request) -> Response:
        body = await request.body()
        seen = Seen(request.method, request.url.path, dict(request.query_params), dict(request.headers), body)
        with self._lock:
            self._seen.append(seen)
            found = self._answers.get(request.url.path)
        if found is None:
            return Response(b'{"error":"no such route"}', status_code=404, media_type="application/json")
        status, payload = found
        return Response(orjson.dumps(payload), status_code=status, media_type="application/json")

    def start(self) -> LocalUpstream:
        app = Starlette(routes=[Route("/{path:path}", self._handle, methods=["GET", "POST"])])
        self._runner = ThreadedServer(app, name="local-upstream").start()
        self.port = self._runner.port
        return self

    def stop(self) -> None:
        if self._runner is not None:
            self._runner.stop()
        self._runner = None

    def __enter__(self) -> LocalUpstream:
        return self.start()

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None) -> None:
        self.stop()


async def wait_until(condition: Callable[[], Awaitable[bool]], timeout: float = 10.0) -> None:
    """Poll an async condition every 20 ms; fail the test when it is not met within `timeout`."""
    deadline = time.monotonic() + timeout
    while not await condition():
        if time.monotonic() > deadline:
            raise AssertionError("condition not met in time")
        await asyncio.sleep(0.02)
