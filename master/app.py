"""The master's ASGI application: request ids, then /api, relay or page by path prefix."""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager

from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.middleware.gzip import GZipMiddleware
from starlette.middleware.sessions import SessionMiddleware
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import Match, Router
from starlette.types import ASGIApp, Receive, Scope, Send

from master import web
from master.api.common import JSONResponse, client_ip
from master.api.routes import api_routes
from master.context import MasterContext
from master.db.store import open_store
from master.monitors import start_monitors
from master.options import Options
from master.ratelimit import Limit, RateLimiter, RedisRateLimiter
from master.relay_host import RelayHost
from master.sessions import SESSION_MAX_AGE, prune_expired_sessions
from master.users.accounts import ensure_root
from shared.client_address import TrustedProxies
from shared.logs import get_logger
from shared.memory import freeze_startup_heap
from shared.metrics import Metrics, engine_state
from shared.relay.app import RelayApp
from shared.relay.paths import is_relay_path
from shared.request_id import RequestIdMiddleware
from shared.settings import Settings

log = get_logger(__name__)


def invalid_url(method: str, path: str) -> JSONResponse:
    return JSONResponse(
        {"error": {"message": f"Invalid URL ({method} {path})", "type": "invalid_request_error", "param": "", "code": ""}},
        status_code=404,
    )


class ApiRateLimit:
    """GlobalAPIRateLimit on every /api request (480 per 180 s per IP by default)."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        ctx: MasterContext = scope["app"].state.ctx
        request = Request(scope)
        limit = Limit("GA", ctx.settings.global_api_rate_limit, 180)
        if not await ctx.limiter.allow(limit, client_ip(request)):
            await Response(status_code=429)(scope, receive, send)
            return
        await self.app(scope, receive, send)


def _slash_redirect(router: Router) -> Callable[[Scope, Receive, Send], Awaitable[None]]:
    """Unknown /api path: redirect to the other trailing-slash form if that one is routed (301 for
    GET, 307 otherwise, query kept), else One API's JSON 404."""

    async def not_found(scope: Scope, receive: Receive, send: Send) -> None:
        path: str = scope["path"]
        alt = path[:-1] if path.endswith("/") else path + "/"
        if alt and alt != path:
            alt_scope = {**scope, "path": alt}
            if any(r.matches(alt_scope)[0] == Match.FULL for r in router.routes):
                query = scope.get("query_string", b"").decode()
                target = alt + (f"?{query}" if query else "")
                code = 301 if scope["method"] in ("GET", "HEAD") else 307
                await RedirectResponse(target, status_code=code)(scope, receive, send)
                return
        await invalid_url(scope["method"], path)(scope, receive, send)

    return not_found


class PrefixDispatch:
    """Route by prefix before any middleware runs, so relay requests skip sessions and gzip."""

    def __init__(self, api: ASGIApp, relay: ASGIApp | None, page: ASGIApp, metrics: ASGIApp | None = None) -> None:
        self.api, self.relay, self.page, self.metrics = api, relay, page, metrics

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        path = scope.get("path", "")
        if path in ("/healthz", "/readyz"):
            # Live once serving; ready once the lifespan built the relay (database open, snapshot in).
            ready = path == "/healthz" or getattr(scope["app"].state, "relay_app", None) is not None
            await JSONResponse({"status": "ok" if ready else "starting"}, status_code=200 if ready else 503)(scope, receive, send)
        elif path == "/metrics" and self.metrics is not None:
            await self.metrics(scope, receive, send)
        elif path.startswith("/api"):
            await self.api(scope, receive, send)
        elif self.relay is not None and is_relay_path(path):
            await self.relay(scope, receive, send)
        else:
            await self.page(scope, receive, send)


async def _relay_of_app(scope: Scope, receive: Receive, send: Send) -> None:
    """The relay app exists once the lifespan built the engine."""
    await scope["app"].state.relay_app(scope, receive, send)


async def build_context(settings: Settings) -> MasterContext:
    store = await open_store(settings, run_migrations=True)
    options = Options(settings.theme)
    await options.load(store.main)
    if settings.redis_enabled:
        import redis.asyncio as aioredis

        limiter: RateLimiter = RedisRateLimiter(aioredis.from_url(settings.redis_conn_string), disabled=settings.debug)
    else:
        limiter = RateLimiter(disabled=settings.debug)
    ctx = MasterContext(settings=settings, store=store, options=options, limiter=limiter)
    await ensure_root(ctx)
    await prune_expired_sessions(ctx)
    return ctx


class MasterApp(Starlette):
    """Starlette for everything but the relay: /v1 and /dashboard/billing skip its middleware stack
    (error and exception middleware, sessions, routing), since they are the hot path."""

    def __init__(self, **kwargs: object) -> None:
        super().__init__(**kwargs)  # type: ignore[arg-type]
        self._relay = RequestIdMiddleware(_relay_of_app)
        self.proxies = TrustedProxies()

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            self.proxies.resolve(scope)  # once per request: every later use reads scope["client"]
            if is_relay_path(scope["path"]):
                scope["app"] = self
                await self._relay(scope, receive, send)
                return
        await super().__call__(scope, receive, send)


def create_app(settings: Settings) -> Starlette:
    """The whole master as one ASGI app; its lifespan opens the database and starts background jobs."""
    api_router = Router(routes=api_routes(), redirect_slashes=False)
    api_router.default = _slash_redirect(api_router)

    @asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        if settings.session_secret_generated:
            log.warning("SESSION_SECRET is not set: a random one is used, sessions end at restart")
        ctx = await build_context(settings)
        app.state.ctx = ctx
        host = RelayHost(ctx)
        await host.start()
        app.state.relay = host
        app.state.relay_app = RelayApp(host.engine)
        host.engine.metrics = metrics
        monitors = app.state.monitors = await start_monitors(ctx, host)
        cluster = None
        if settings.cluster_secret:
            from master.cluster.server import ClusterServer

            cluster = ClusterServer(ctx, host)
            await cluster.start()
        publisher = cluster.publisher if cluster is not None else None
        metrics.bind(
            lambda: engine_state(
                host.engine,
                cluster_sent_bytes=publisher.sent_bytes if publisher is not None else None,
                changes_published=publisher.published if publisher is not None else None,
            )
        )
        app.state.cluster = cluster
        freeze_startup_heap()
        try:
            yield
        finally:
            if cluster is not None:
                await cluster.stop()
            await monitors.stop()
            await host.stop()
            await ctx.store.close()

    app = MasterApp(lifespan=lifespan)
    app.proxies = TrustedProxies(settings.trusted_proxies)
    metrics = app.state.metrics = Metrics("master", token=settings.metrics_token)
    app._relay = RequestIdMiddleware(_relay_of_app, metrics)  # the relay's own path, past the middleware stack

    api = SessionMiddleware(
        GZipMiddleware(ApiRateLimit(api_router), minimum_size=1024),
        secret_key=settings.session_secret,
        session_cookie="session",
        max_age=SESSION_MAX_AGE,
        same_site="lax",
    )
    dispatch = PrefixDispatch(api=api, relay=_relay_of_app, page=web.page_app, metrics=metrics.endpoint)
    app.router.routes = []
    app.router.default = metrics.instrument(dispatch)  # every path is ours to dispatch
    app.user_middleware = [Middleware(RequestIdMiddleware)]
    return app
