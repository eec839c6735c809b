"""Relay tokens of the calling user (docs/one-api-compat.md §4.8): list, search, get, create, update, delete.

Every query is scoped to the caller's user id, so another user's token is simply "record not found".
"""

from __future__ import annotations

import ipaddress
import time
from typing import Any

from sqlalchemy import ColumnElement, Row, and_, delete, insert, select, update
from starlette.requests import Request
from starlette.responses import Response

from master.api.common import ITEMS_PER_PAGE, BadBody, current, fail, msg, ok, page, read_json, route, user_auth
from master.api.limit_fields import LimitFieldError, limit_changes, limit_json
from master.context import get_ctx
from master.db.rows import inserted_id
from master.db.schema import tokens
from master.dberrors import answer_db_errors
from master.gobind import BindError, Kind, bind, int32_eq, lenient_int, path_id
from shared.keys import generate_token_key

TOKEN_ENABLED, TOKEN_DISABLED, TOKEN_EXPIRED, TOKEN_EXHAUSTED = 1, 2, 3, 4
MAX_NAME_BYTES = 30
MAX_PAGE = 10**15  # keeps OFFSET inside every backend's 64-bit range

NOT_FOUND = "record not found"
NO_ID = "id 或 userId 为空！"
EXPIRED_REFUSAL = "令牌已过期，无法启用，请先修改令牌过期时间，或者设置为永不过期"
EXHAUSTED_REFUSAL = "令牌可用额度已用尽，无法启用，请先修改令牌剩余额度，或者设置为无限额度"

# The Go struct a request body is bound into (fields the handlers ignore still type-check).
TOKEN_BODY: dict[str, Kind] = {
    "id": "int",
    "user_id": "int",
    "key": "str",
    "status": "int",
    "name": "str",
    "created_time": "int",
    "accessed_time": "int",
    "expired_time": "int",
    "remain_quota": "int",
    "unlimited_quota": "bool",
    "used_quota": "int",
    "models": "str_or_null",
    "subnet": "str_or_null",
}

COLUMNS = [
    tokens.c.id,
    tokens.c.user_id,
    tokens.c.key,
    tokens.c.status,
    tokens.c.name,
    tokens.c.created_time,
    tokens.c.accessed_time,
    tokens.c.expired_time,
    tokens.c.remain_quota,
    tokens.c.unlimited_quota,
    tokens.c.used_quota,
    tokens.c.models,
    tokens.c.subnet,
    tokens.c.rpm_limit,
    tokens.c.tpm_limit,
    tokens.c.max_parallel_requests,
]


def token_json(row: Row[Any]) -> dict[str, Any]:
    """A token as One API serialises it (§3.2; models and subnet may be null), plus our rate limits."""
    return {
        "id": row.id,
        "user_id": row.user_id or 0,
        "key": row.key or "",
        "status": row.status or 0,
        "name": row.name or "",
        "created_time": row.created_time or 0,
        "accessed_time": row.accessed_time or 0,
        "expired_time": row.expired_time if row.expired_time is not None else 0,
        "remain_quota": row.remain_quota or 0,
        "unlimited_quota": bool(row.unlimited_quota),
        "used_quota": row.used_quota or 0,
        "models": row.models,
        "subnet": row.subnet,
        **limit_json(row._mapping),
    }


def subnet_error(subnets: str) -> str | None:
    """Go's `net.ParseCIDR` over each comma-separated entry; the first failure's text, or None."""
    for part in subnets.split(","):
        entry = part.strip()
        address, slash, bits = entry.partition("/")
        try:
            parsed = ipaddress.ip_address(address) if slash and "%" not in address else None
        except ValueError:
            parsed = None
        valid = parsed is not None and bits.isascii() and bits.isdigit() and int(bits) <= parsed.max_prefixlen
        if not valid:
            return f"failed to parse subnet: invalid CIDR address: {entry}"
    return None


def validation_error(body: dict[str, Any]) -> str | None:
    """One API's validateToken, with its "参数错误：" prefix."""
    if len(body["name"].encode()) > MAX_NAME_BYTES:
        return "参数错误：令牌名称过长"
    if body["subnet"]:
        reason = subnet_error(body["subnet"])
        if reason:
            return f"参数错误：无效的网段：{reason}"
    return None


async def _bound_body(request: Request) -> tuple[dict[str, Any], dict[str, int]]:
    """The bound Token fields, and the rate-limit fields the body carries (LimitFieldError)."""
    raw = await read_json(request)
    return bind(raw, TOKEN_BODY), limit_changes(raw)


def _owned(token_id: int, user_id: int) -> ColumnElement[bool]:
    return and_(int32_eq(tokens.c.id, token_id), tokens.c.user_id == user_id)


async def _fetch(request: Request, token_id: int) -> Row[Any] | None:
    async with get_ctx(request).store.main.connect() as conn:
        return (await conn.execute(select(*COLUMNS).where(_owned(token_id, current(request).id)))).first()


@user_auth
@answer_db_errors
async def list_tokens(request: Request) -> Response:
    order = request.query_params.get("order", "")
    if order == "remain_quota":
        ordering = [tokens.c.unlimited_quota.desc(), tokens.c.remain_quota.desc(), tokens.c.id.desc()]
    elif order == "used_quota":
        ordering = [tokens.c.used_quota.desc(), tokens.c.id.desc()]
    else:
        ordering = [tokens.c.id.desc()]
    query = (
        select(*COLUMNS)
        .where(tokens.c.user_id == current(request).id)
        .order_by(*ordering)
        .limit(ITEMS_PER_PAGE)
        .offset(min(page(request), MAX_PAGE) * ITEMS_PER_PAGE)
    )
    async with get_ctx(request).store.main.connect() as conn:
        rows = (await conn.execute(query)).all()
    return ok([token_json(r) for r in rows])


@user_auth
@answer_db_errors
async def search_tokens(request: Request) -> Response:
    keyword = request.query_params.get("keyword", "")
    query = select(*COLUMNS).where(tokens.c.user_id == current(request).id, tokens.c.name.like(keyword + "%")).order_by(tokens.c.id)
    async with get_ctx(request).store.main.connect() as conn:
        rows = (await conn.execute(query)).all()
    return ok([token_json(r) for r in rows])


@user_auth
@answer_db_errors
async def get_token(request: Request) -> Response:
    token_id = path_id(request.path_params["id"], NO_ID)
    if isinstance(token_id, str):
        return fail(token_id)
    row = await _fetch(request, token_id)
    return ok(token_json(row)) if row else fail(NOT_FOUND)


@user_auth
@answer_db_errors
async def create_token(request: Request) -> Response:
    try:
        body, limits = await _bound_body(request)
    except (BadBody, BindError):
        return fail(msg(request, "invalid_parameter"))
    except LimitFieldError as exc:
        return fail(f"参数错误：{exc}")
    problem = validation_error(body)
    if problem:
        return fail(problem)
    now = int(time.time())
    # gorm's insert defaults: zero status -> 1, zero expired_time -> -1 (never), nil subnet -> ''.
    values = {
        "user_id": current(request).id,
        "name": body["name"],
        "key": generate_token_key(),
        "status": TOKEN_ENABLED,
        "created_time": now,
        "accessed_time": now,
        "expired_time": body["expired_time"] or -1,
        "remain_quota": body["remain_quota"],
        "unlimited_quota": body["unlimited_quota"],
        "used_quota": 0,
        "models": body["models"],
        "subnet": body["subnet"] if body["subnet"] is not None else "",
        **limits,
    }
    ctx = get_ctx(request)
    async with ctx.store.main.begin() as conn:
        token_id = inserted_id(await conn.execute(insert(tokens).values(**values)))
        row = (await conn.execute(select(*COLUMNS).where(tokens.c.id == token_id))).one()
    await ctx.changed("token")
    return ok(token_json(row))


def enable_refusal(row: Row[Any], now: int) -> str | None:
    """Why a token in `row` may not be switched back to enabled, if it may not."""
    if row.status == TOKEN_EXPIRED and row.expired_time <= now and row.expired_time != -1:
        return EXPIRED_REFUSAL
    if row.status == TOKEN_EXHAUSTED and row.remain_quota <= 0 and not row.unlimited_quota:
        return EXHAUSTED_REFUSAL
    return None


@user_auth
@answer_db_errors
async def update_token(request: Request) -> Response:
    try:
        body, limits = await _bound_body(request)
    except (BadBody, BindError):
        return fail(msg(request, "invalid_parameter"))
    except LimitFieldError as exc:
        return fail(f"参数错误：{exc}")
    problem = validation_error(body)
    if problem:
        return fail(problem)
    if body["id"] == 0:
        return fail(NO_ID)
    row = await _fetch(request, body["id"])
    if row is None:
        return fail(NOT_FOUND)
    if body["status"] == TOKEN_ENABLED:
        refusal = enable_refusal(row, int(time.time()))
        if refusal:
            return fail(refusal)
    current_values = token_json(row)
    if request.query_params.get("status_only", ""):
        changes = {"status": body["status"]}
    else:
        changes = {k: body[k] for k in ("name", "expired_time", "remain_quota", "unlimited_quota", "models", "subnet")}
        changes.update(limits)  # only the limit fields the body carries: One API's console sends none
    new_values = {**current_values, **changes}
    # The explicit column list of Token.Update: zero values are written too.
    written = {k: new_values[k] for k in ("name", "status", "expired_time", "remain_quota", "unlimited_quota", "models", "subnet")}
    written.update({k: v for k, v in changes.items() if k in limits})
    ctx = get_ctx(request)
    async with ctx.store.main.begin() as conn:
        await conn.execute(update(tokens).where(tokens.c.id == row.id).values(**written))
    await ctx.changed("token")
    return ok(new_values)


@user_auth
@answer_db_errors
async def delete_token(request: Request) -> Response:
    token_id = lenient_int(request.path_params["id"])
    if token_id == 0:
        return fail(NO_ID)
    ctx = get_ctx(request)
    async with ctx.store.main.begin() as conn:
        deleted = (await conn.execute(delete(tokens).where(_owned(token_id, current(request).id)))).rowcount
    if not deleted:
        return fail(NOT_FOUND)
    await ctx.changed("token")
    return ok()


routes = [
    route("/api/token/", list_tokens, ["GET"]),
    route("/api/token/search", search_tokens, ["GET"]),
    route("/api/token/{id}", get_token, ["GET"]),
    route("/api/token/", create_token, ["POST"]),
    route("/api/token/", update_token, ["PUT"]),
    route("/api/token/{id}", delete_token, ["DELETE"]),
]
