"""The slave's ASGI app: the relay (/v1/*, the billing routes) on the shared RelayApp, /api/status
from the snapshot, health routes, and every other path sent to FRONTEND_BASE_URL (301 for GET/HEAD
as One API does, 308 otherwise so a body survives) or, without it, a JSON 404 naming the master."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

import orjson
from starlette.types import Receive, Scope, Send

from shared.client_address import TrustedProxies
from shared.logs import get_logger
from shared.metrics import Metrics
from shared.relay.app import RelayApp
from shared.relay.engine import RelayEngine
from shared.relay.paths import is_relay_path
from shared.request_id import RequestIdMiddleware
from shared.settings import VERSION, Settings
from shared.snapshot import Snapshot

log = get_logger(__name__)


async def send_json(send: Send, status: int, body: Any, headers: list[tuple[bytes, bytes]] | None = None) -> None:
    data = orjson.dumps(body)
    await send(
        {
            "type": "http.response.start",
            "status": status,
            "headers": [(b"content-type", b"application/json"), (b"content-length", str(len(data)).encode()), *(headers or [])],
        }
    )
    await send({"type": "http.response.body", "body": data})


def _number(options: Any, key: str) -> float | int:
    try:
        value = float(options.get(key, "0") or 0)
    except ValueError:
        value = 0.0
    return int(value) if value.is_integer() else value


def status_body(snapshot: Snapshot, started_at: int) -> dict[str, Any]:
    """The master's /api/status fields, answered from the options in the snapshot."""
    o = snapshot.options
    flag: Callable[[str], bool] = snapshot.option_flag
    return {
        "success": True,
        "message": "",
        "data": {
            "version": VERSION,
            "start_time": started_at,
            "email_verification": flag("EmailVerificationEnabled"),
            "github_oauth": flag("GitHubOAuthEnabled"),
            "github_client_id": o.get("GitHubClientId", ""),
            "lark_client_id": o.get("LarkClientId", ""),
            "system_name": o.get("SystemName", ""),
            "logo": o.get("Logo", ""),
            "footer_html": o.get("Footer", ""),
            "wechat_qrcode": o.get("WeChatAccountQRCodeImageURL", ""),
            "wechat_login": flag("WeChatAuthEnabled"),
            "server_address": o.get("ServerAddress") or "http://localhost:3000",
            "turnstile_check": flag("TurnstileCheckEnabled"),
            "turnstile_site_key": o.get("TurnstileSiteKey", ""),
            "top_up_link": o.get("TopUpLink", ""),
            "chat_link": o.get("ChatLink", ""),
            "quota_per_unit": _number(o, "QuotaPerUnit"),
            "display_in_currency": flag("DisplayInCurrencyEnabled"),
            "oidc": flag("OidcEnabled"),
            "oidc_client_id": o.get("OidcClientId", ""),
            "oidc_well_known": o.get("OidcWellKnown", ""),
            "oidc_authorization_endpoint": o.get("OidcAuthorizationEndpoint", ""),
            "oidc_token_endpoint": o.get("OidcTokenEndpoint", ""),
            "oidc_userinfo_endpoint": o.get("OidcUserinfoEndpoint", ""),
        },
    }


class SlaveApp:
    def __init__(self, settings: Settings, engine: RelayEngine, is_ready: Callable[[], bool], metrics: Metrics | None = None) -> None:
        self.settings, self.engine, self.is_ready = settings, engine, is_ready
        self.metrics = metrics or Metrics("slave", token=settings.metrics_token)
        engine.metrics = self.metrics
        self.relay = RelayApp(engine)
        self.started_at = int(time.time())
        self.draining = False
        self.proxies = TrustedProxies(settings.trusted_proxies)

        self._with_id = RequestIdMiddleware(self._route, self.metrics)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            self.proxies.resolve(scope)  # once per request: every later use reads scope["client"]
            await self._with_id(scope, receive, send)

    async def _route(self, scope: Scope, receive: Receive, send: Send) -> None:
        path: str = scope["path"]
        method: str = scope["method"]
        if path == "/healthz":
            await send_json(send, 200, {"status": "ok"})
        elif path == "/readyz":
            ready = self.is_ready() and not self.draining
            await send_json(
                send,
                200 if ready else 503,
                {"status": "ok" if ready else "not ready", "version": self.engine.snapshot.version if self.engine.snapshot else None},
            )
        elif is_relay_path(path):
            await self.relay(scope, receive, send)
        elif path == "/metrics":
            await self.metrics.endpoint(scope, receive, send)
        elif path == "/api/status" and method == "GET" and self.engine.snapshot is not None:
            await send_json(send, 200, status_body(self.engine.snapshot, self.started_at))
        elif self.settings.frontend_base_url:
            query = scope.get("query_string", b"").decode("latin-1")
            target = self.settings.frontend_base_url + path + (f"?{query}" if query else "")
            code = 301 if method in ("GET", "HEAD") else 308
            await send(
                {"type": "http.response.start", "status": code, "headers": [(b"location", target.encode()), (b"content-length", b"0")]}
            )
            await send({"type": "http.response.body", "body": b""})
        else:
            message = f"this node is a relay (slave): {method} {path} is served by the master node ({self.settings.master_addr} for the cluster); set FRONTEND_BASE_URL to redirect here"
            await send_json(
                send,
                404,
                {
                    "success": False,
                    "message": message,
                    "error": {"message": message, "type": "invalid_request_error", "param": "", "code": "not_on_slave"},
                },
            )
