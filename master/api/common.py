"""Shared pieces of every management handler: the {success, message, data} envelope, JSON body
parsing, paging, client IP, translated messages and the auth levels of reference §4.2."""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass
from typing import Any, Awaitable, Callable

import orjson
from sqlalchemy import select
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Match, Route

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


@dataclass(frozen=True)
class CurrentUser:
    id: int
    username: str
    role: int
    status: int


async def authenticate(request: Request, level: int) -> CurrentUser | Response:
    """Session first, then the access token in Authorization; answers exactly as One API does."""
    ctx = get_ctx(request)
    session = request.session
    if session.get("username"):
        user = CurrentUser(
            id=int(session.get("id", 0)),
            username=str(session["username"]),
            role=int(session.get("role", 0)),
            status=int(session.get("status", 0)),
        )
    else:
        header = request.headers.get("authorization", "")
        if not header:
            return fail("无权进行此操作，未登录且未提供 access token", status=401)
        token = header.replace("Bearer ", "", 1)
        async with ctx.store.main.connect() as conn:
            row = (
                await conn.execute(
                    select(users.c.id, users.c.username, users.c.role, users.c.status).where(users.c.access_token == token)
                )
            ).first() if token else None
        if row is None:
            return fail("无权进行此操作，access token 无效")
        user = CurrentUser(id=row.id, username=row.username, role=row.role, status=row.status)
    if user.status == USER_DISABLED or user.id in ctx.blacklist:
        session.clear()
        return fail("用户已被封禁")
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


def current(request: Request) -> CurrentUser:
    return request.state.user


class ApiRoute(Route):
    """A route that does not claim a path for other methods: One API answers an unknown method
    on a known path with its 404, not 405."""

    def matches(self, scope: Any) -> tuple[Match, dict]:
        match, child = super().matches(scope)
        return (Match.NONE, {}) if match == Match.PARTIAL else (match, child)


def route(path: str, endpoint: Handler, methods: list[str]) -> ApiRoute:
    return ApiRoute(path, endpoint, methods=methods)
