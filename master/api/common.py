"""Shared pieces of every management handler: the {success, message, data} envelope, JSON body
parsing, paging, client IP, translated messages and the auth levels of docs/one-api-compat.md §4.2."""

from __future__ import annotations

import functools
import re
from collections.abc import Awaitable, Callable
from typing import Any

import orjson
from sqlalchemy import select
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Match, Route
from starlette.types import Scope

from master import sessions
from master.access_tokens import stored_form
from master.auth_cache import CurrentUser
from master.context import MasterContext, get_ctx
from master.db.schema import users
from master.ratelimit import CRITICAL

ROLE_GUEST, ROLE_COMMON, ROLE_ADMIN, ROLE_ROOT = 0, 1, 10, 100
USER_ENABLED, USER_DISABLED, USER_DELETED = 1, 2, 3
ITEMS_PER_PAGE = 10
MAX_PAGE = 100_000_000  # keeps p * 10 inside every backend's integer range
_DIGITS = re.compile(r"[+-]?\d{1,18}")

_MISSING = object()

MESSAGES = {
    "invalid_parameter": {"en": "invalid parameter", "zh-CN": "无效的参数"},
    "invalid_input": {"en": "Invalid input, please check your input", "zh-CN": "无效的输入，请检查您的输入"},
    "send_email_failed": {"en": "failed to send email: ", "zh-CN": "发送邮件失败："},
}


class JSONResponse(Response):
    media_type = "application/json; charset=utf-8"

    def render(self, content: Any) -> bytes:
        return orjson.dumps(content)


def ok(data: Any = _MISSING, message: str = "") -> JSONResponse:
    """`{"success":true,"message":…[,"data":…]}`; data is left out when not given."""
    body: dict[str, Any] = {"success": True, "message": message}
    if data is not _MISSING:
        body["data"] = data
    return JSONResponse(body)


def fail(message: str, status: int = 200, data: Any = _MISSING) -> JSONResponse:
    """A business error: HTTP 200 with success false, as One API answers almost everywhere."""
    body: dict[str, Any] = {"success": False, "message": message}
    if data is not _MISSING:
        body["data"] = data
    return JSONResponse(body, status_code=status)


def language(request: Request) -> str:
    return "zh-CN" if request.headers.get("accept-language", "").lower().startswith("zh") else "en"


def msg(request: Request, key: str) -> str:
    return MESSAGES[key][language(request)]


class BadBody(Exception):
    """The request body is not the JSON object the handler needs."""


async def read_json(request: Request) -> dict[str, Any]:
    """The body as a JSON object; raises BadBody for anything else (handlers answer invalid_parameter)."""
    raw = await request.body()
    try:
        data = orjson.loads(raw) if raw else None
    except orjson.JSONDecodeError as exc:
        raise BadBody(str(exc)) from exc
    if not isinstance(data, dict):
        raise BadBody("body must be a JSON object")
    return data


def page(request: Request) -> int:
    """0-based page index `p`; negative or non-numeric (by Go's Atoi rules) means 0."""
    raw = request.query_params.get("p", "0")
    if not _DIGITS.fullmatch(raw):
        return 0
    return min(max(0, int(raw)), MAX_PAGE)


def client_ip(request: Request) -> str:
    """The client's address: the master app already resolved it from TRUSTED_PROXIES (shared.client_address)."""
    return request.client.host if request.client else ""


BANNED = "用户已被封禁"


async def session_user(request: Request) -> CurrentUser | None:
    """The current state of the user whose live session the cookie names; None without one."""
    session = request.session
    sid, user_id = session.get("sid"), session.get("id")
    if not isinstance(sid, str) or not sid or not isinstance(user_id, int):
        return None
    ctx = get_ctx(request)
    if await sessions.session_owner(ctx, sid) != user_id:
        return None
    return await sessions.user_state(ctx, user_id)


async def _access_token_user(request: Request, header: str) -> CurrentUser | None:
    token = header.replace("Bearer ", "", 1)
    if not token:
        return None
    async with get_ctx(request).store.main.connect() as conn:
        row = (
            await conn.execute(
                select(users.c.id, users.c.username, users.c.role, users.c.status).where(users.c.access_token == stored_form(token))
            )
        ).first()
    return CurrentUser(id=row.id, username=row.username or "", role=int(row.role or 0), status=int(row.status or 0)) if row else None


async def authenticate(request: Request, level: int) -> CurrentUser | Response:
    """Session first, then the access token in Authorization; answers as One API does, but from the
    user's current row (role and status), never from what the cookie held at login."""
    session = request.session
    user = None
    if session.get("sid") or session.get("username"):
        user = await session_user(request)
        if user is None:  # ended, expired, or a cookie from before sessions were revocable
            gone_id = session.get("id")
            session.clear()
            owner = await sessions.user_state(get_ctx(request), gone_id) if isinstance(gone_id, int) else None
            if owner is not None and owner.status != USER_ENABLED:
                return fail(BANNED)
    if user is None:
        header = request.headers.get("authorization", "")
        if not header:
            return fail("无权进行此操作，未登录且未提供 access token", status=401)
        user = await _access_token_user(request, header)
        if user is None:
            return fail("无权进行此操作，access token 无效")
    if user.status != USER_ENABLED:  # disabled, and deleted too (One API let deleted users through)
        session.clear()
        return fail(BANNED)
    if user.role < level:
        return fail("无权进行此操作，权限不足")
    return user


Handler = Callable[[Request], Awaitable[Response]]


def requires(level: int) -> Callable[[Handler], Handler]:
    """Guard a handler with an auth level; the caller lands in `request.state.user`."""

    def decorate(handler: Handler) -> Handler:
        @functools.wraps(handler)
        async def guarded(request: Request) -> Response:
            result = await authenticate(request, level)
            if isinstance(result, Response):
                return result
            request.state.user = result
            return await handler(request)

        return guarded

    return decorate


user_auth = requires(ROLE_COMMON)
admin_auth = requires(ROLE_ADMIN)
root_auth = requires(ROLE_ROOT)


def critical_rate_limit(handler: Handler) -> Handler:
    """The critical limiter (20 per 1200 s per IP) on login, register, OAuth and friends."""

    @functools.wraps(handler)
    async def limited(request: Request) -> Response:
        ctx: MasterContext = get_ctx(request)
        if not await ctx.limiter.allow(CRITICAL, client_ip(request)):
            return Response(status_code=429)
        return await handler(request)

    return limited


CROSS_SITE = "跨站请求被拒绝 (cross-site request refused)"
_SAME_ORIGIN_FETCH = frozenset({"same-origin", "none"})  # `none`: typed in the address bar, a bookmark
_DEFAULT_PORTS = {"http": "80", "https": "443"}


def _host_port(host: str, scheme: str) -> str:
    """`example.com` and `example.com:443` (for https) name the same origin host."""
    host = host.strip().lower()
    default = _DEFAULT_PORTS.get(scheme)
    if default and host.endswith(":" + default):
        return host[: -len(default) - 1]
    return host


def cross_site(request: Request) -> bool:
    """True when a browser says another site started this request: `Sec-Fetch-Site` (every current
    browser sends it), else an `Origin` naming another host. A request with neither (curl, a
    script with an access token, an old browser's navigation) is not treated as cross-site."""
    fetch_site = request.headers.get("sec-fetch-site")
    if fetch_site is not None:
        return fetch_site.strip().lower() not in _SAME_ORIGIN_FETCH
    origin = request.headers.get("origin")
    if origin is None:
        return False
    scheme, sep, rest = origin.strip().partition("://")
    if not sep or not rest:  # `null` (sandboxed frames, privacy redirects) or garbage
        return True
    scheme = scheme.lower()
    return _host_port(rest, scheme) != _host_port(request.headers.get("host", ""), scheme)


def same_origin_only(handler: Handler) -> Handler:
    """For GET routes that change state (a new access token, a paid channel test): a cookie rides
    along on a cross-site navigation (SameSite=Lax allows top-level GETs), so refuse those with 403."""

    @functools.wraps(handler)
    async def guarded(request: Request) -> Response:
        if cross_site(request):
            return fail(CROSS_SITE, status=403)
        return await handler(request)

    return guarded


def current(request: Request) -> CurrentUser:
    return request.state.user


class ApiRoute(Route):
    """A route that does not claim a path for other methods: One API answers an unknown method
    on a known path with its 404, not 405."""

    def matches(self, scope: Scope) -> tuple[Match, Scope]:
        match, child = super().matches(scope)
        return (Match.NONE, {}) if match == Match.PARTIAL else (match, child)


def route(path: str, endpoint: Handler, methods: list[str]) -> ApiRoute:
    return ApiRoute(path, endpoint, methods=methods)
