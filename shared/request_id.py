"""Every request of every node gets One API's request id: in a context variable (so each log line
of the request carries it), in `scope["state"]`, echoed as X-Oneapi-Request-Id, and one access line."""

from __future__ import annotations

import time
from collections.abc import MutableMapping
from typing import Any

from starlette.types import ASGIApp, Receive, Scope, Send

from shared.logs import get_logger, new_request_id, request_id_var

log = get_logger("one-api.access")
_HEADER = b"x-oneapi-request-id"


class RequestIdMiddleware:
    """`metrics` (a shared.metrics.Metrics) also counts and times the request here: one wrapper
    around the relay's send instead of two, as this runs on every relayed request."""

    def __init__(self, app: ASGIApp, metrics: Any = None) -> None:
        self.app = app
        self.observe = metrics.observe_request if metrics is not None else None

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        rid = new_request_id()
        token = request_id_var.set(rid)
        scope.setdefault("state", {})["request_id"] = rid
        started = time.perf_counter()
        status = 0
        first = 0.0
        header = (_HEADER, rid.encode())

        async def send_with_id(message: MutableMapping[str, Any]) -> None:
            nonlocal status, first
            if message["type"] == "http.response.start":
                status = message["status"]
                message["headers"] = [*message.get("headers", ()), header]
            elif not first and message.get("body"):
                first = time.perf_counter() - started
            await send(message)

        try:
            await self.app(scope, receive, send_with_id)
        finally:
            elapsed = time.perf_counter() - started
            if self.observe is not None:
                self.observe(scope["path"], status, elapsed, first)
            client = scope.get("client")
            log.info(
                "request",
                status=status,
                method=scope["method"],
                path=scope["path"],
                ip=client[0] if client else "",
                ms=round(elapsed * 1000, 2),
            )
            request_id_var.reset(token)
