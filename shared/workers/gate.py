"""The ASGI layer every supervised worker puts in front of its node (N=1 never has it).

- Trust: a request signed with the launch's secret comes from another worker of this node; it is
  answered by the node itself, and on worker 0 its `x-oneapi-worker-client` header becomes the
  request's client address, so rate limits, logs and subnet checks see the real client and not
  127.0.0.1. Worker headers are removed from every request, signed or not: a client cannot forge
  them without the secret, which exists only in the environment of this launch's processes.
- /healthz is this worker's own (the process is serving); /metrics and /readyz speak for the node
  (shared.workers.fanin).
- On a master's relay workers, everything but the relay (/v1, /dashboard/billing) goes to worker 0.
"""

from __future__ import annotations

import hmac
from typing import Any

from starlette.types import ASGIApp, Receive, Scope, Send

from shared.metrics import refuse_scrape, scrape_allowed
from shared.relay.paths import is_relay_path
from shared.workers import fanin
from shared.workers.forward import CLIENT_HEADER, SECRET_HEADER, Forwarder, loopback_client
from shared.workers.slot import WorkerSlot

PREFIX = b"x-oneapi-worker-"


class WorkerGate:
    def __init__(self, app: ASGIApp, slot: WorkerSlot, metrics_token: str = "") -> None:
        self.app, self.slot, self.metrics_token = app, slot, metrics_token
        self.secret = slot.secret.encode()
        self.client = loopback_client()
        self.forward = Forwarder(slot.peer_url(0), slot.secret, self.client) if slot.forward else None

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "lifespan":
            await self.app(scope, self._closing(receive), send)
            return
        if scope["type"] != "http" or self._from_worker(scope):
            await self.app(scope, receive, send)
            return
        path: str = scope["path"]
        if path == "/metrics":
            if not scrape_allowed(scope, self.metrics_token):
                await refuse_scrape(send)
                return
            await fanin.metrics(send, self.client, self.slot, self.metrics_token)
        elif path == "/readyz":
            await fanin.ready(send, self.client, self.slot)
        elif self.forward is not None and path != "/healthz" and not is_relay_path(path):
            await self.forward(scope, receive, send)
        else:
            await self.app(scope, receive, send)

    def _from_worker(self, scope: Scope) -> bool:
        """Strip worker headers; True when the request carries this launch's secret."""
        headers: list[tuple[bytes, bytes]] = scope["headers"]
        if not any(name.startswith(PREFIX) for name, _ in headers):
            return False
        secret = client = b""
        kept = []
        for name, value in headers:
            if name == SECRET_HEADER:
                secret = value
            elif name == CLIENT_HEADER:
                client = value
            elif not name.startswith(PREFIX):
                kept.append((name, value))
        scope["headers"] = kept
        if not hmac.compare_digest(secret, self.secret):
            return False
        if client:
            host, _, port = client.decode("latin-1").rpartition(":")
            scope["client"] = (host, int(port) if port.isdigit() else 0)
        return True

    def _closing(self, receive: Receive) -> Receive:
        """Close the loopback client when the server shuts down (requests are drained by then)."""

        async def wrapped() -> Any:
            message = await receive()
            if message["type"] == "lifespan.shutdown":
                await self.client.aclose()
            return message

        return wrapped
