"""A master's relay worker sends every request that is not the relay to worker 0, over loopback.

The request and the answer stream through unchanged (method, path, query, body, status, every
header including each Set-Cookie, the body's encoding) except hop-by-hop headers. Two headers,
signed by the launch's secret, tell worker 0 who the client really is (see shared.workers.gate).
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from http.cookiejar import Cookie, CookieJar
from typing import Any

import httpx
import orjson
from starlette.types import Receive, Scope, Send

from shared.logs import get_logger

log = get_logger(__name__)

SECRET_HEADER = b"x-oneapi-worker-secret"
CLIENT_HEADER = b"x-oneapi-worker-client"
# Per connection, not per message (RFC 9110 §7.6.1); date and server are the answering server's own.
HOP_BY_HOP = frozenset(
    b"connection keep-alive proxy-connection proxy-authenticate proxy-authorization te trailer transfer-encoding upgrade expect".split()
)
DROP_FROM_ANSWER = HOP_BY_HOP | {b"date", b"server"}
# Console and /api calls can be slow (a test of every channel), never endless.
TIMEOUT = httpx.Timeout(connect=5.0, read=600.0, write=60.0, pool=None)


class ClientGone(Exception):
    """The client disconnected while its request body was being passed on."""


class _NoCookies(CookieJar):
    """This client is shared by every client of the worker: a Set-Cookie it passes on belongs to
    that one browser, and kept here it would be sent with other people's requests (one login
    through a relay worker made every cookieless /api request through it that user's)."""

    def set_cookie(self, cookie: Cookie) -> None:
        return None

    def extract_cookies(self, response: Any, request: Any) -> None:
        return None


def loopback_client() -> httpx.AsyncClient:
    """A client that adds nothing of its own: no default Accept-Encoding (worker 0 would gzip for a
    client that never asked), no User-Agent, no cookie jar, no limit on concurrent requests to worker 0."""
    client = httpx.AsyncClient(
        timeout=TIMEOUT, limits=httpx.Limits(max_connections=None, max_keepalive_connections=64), trust_env=False, cookies=_NoCookies()
    )
    for name in list(client.headers):
        del client.headers[name]
    return client


def _client_value(scope: Scope) -> bytes:
    client = scope.get("client")
    return f"{client[0]}:{client[1]}".encode("latin-1") if client else b""


def _has_body(headers: list[tuple[bytes, bytes]]) -> bool:
    return any(name in (b"content-length", b"transfer-encoding") for name, _ in headers)


async def _body(receive: Receive) -> AsyncIterator[bytes]:
    while True:
        message = await receive()
        if message["type"] == "http.disconnect":
            raise ClientGone()
        yield message.get("body", b"")
        if not message.get("more_body", False):
            return


class Forwarder:
    def __init__(self, base_url: str, secret: str, client: httpx.AsyncClient) -> None:
        self.base_url, self.secret, self.client = base_url, secret.encode(), client

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        headers = [(name, value) for name, value in scope["headers"] if name not in HOP_BY_HOP]
        has_body = _has_body(scope["headers"])
        headers += [(SECRET_HEADER, self.secret), (CLIENT_HEADER, _client_value(scope))]
        path = (scope.get("raw_path") or scope["path"].encode()).decode("latin-1")
        query = scope.get("query_string", b"").decode("latin-1")
        request = self.client.build_request(
            scope["method"],
            self.base_url + path + (f"?{query}" if query else ""),
            headers=headers,
            content=_body(receive) if has_body else None,
        )
        try:
            answer = await self.client.send(request, stream=True)
        except ClientGone:
            return
        except httpx.HTTPError as exc:
            log.warning("worker 0 did not answer a forwarded request", path=scope["path"], error=repr(exc))
            await _unavailable(send)
            return
        try:
            out = [(name.lower(), value) for name, value in answer.headers.raw if name.lower() not in DROP_FROM_ANSWER]
            await send({"type": "http.response.start", "status": answer.status_code, "headers": out})
            async for chunk in answer.aiter_raw():  # still encoded: Content-Encoding passes through
                await send({"type": "http.response.body", "body": chunk, "more_body": True})
            await send({"type": "http.response.body", "body": b"", "more_body": False})
        finally:
            await answer.aclose()


async def _unavailable(send: Send) -> None:
    message = "the master's main worker is not answering (restarting?); try again"
    body: Any = orjson.dumps(
        {"success": False, "message": message, "error": {"message": message, "type": "one_api_error", "code": "worker_unavailable"}}
    )
    await send(
        {
            "type": "http.response.start",
            "status": 502,
            "headers": [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())],
        }
    )
    await send({"type": "http.response.body", "body": body})
