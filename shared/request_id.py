"""Every request of every node gets One API's request id: in a context variable (so each log line
of the request carries it), in `scope["state"]`, echoed as X-Oneapi-Request-Id, and one access line."""

from __future__ import annotations

import time
from typing import Any

from starlette.types import ASGIApp, Receive, Scope, Send

from shared.logs import get_logger, new_request_id, request_id_var

log = get_logger("one-api.access")
_HEADER = b"x-oneapi-request-id"


class RequestIdMiddleware:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        rid = new_request_id()
        token = request_id_var.set(rid)
        scope.setdefault("state", {})["request_id"] = rid
        started = time.perf_counter()
        status = 0
        header = (_HEADER, rid.encode())

        async def send_with_id(message: dict[str, Any]) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
                message["headers"] = [*message.get("headers", ()), header]
            await send(message)

        try:
            await self.app(scope, receive, send_with_id)
        finally:
            log.info(
                "request",
                status=status,
                method=scope["method"],
                path=scope["path"],
                ms=round((time.perf_counter() - started) * 1000, 2),
            )
            request_id_var.reset(token)
