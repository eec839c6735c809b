"""User administration (docs/one-api-compat.md §4.7, AdminAuth): list, search, get, create, update, manage,
delete, and the admin top-up. Role rules follow One API: a caller must outrank the target unless
the caller is root (delete by id has no root exemption)."""

from __future__ import annotations

import re

from sqlalchemy import ColumnElement, or_, select
from starlette.requests import Request
from starlette.responses import Response

from master.api.common import (
    ITEMS_PER_PAGE,
    ROLE_ADMIN,
    ROLE_COMMON,
    ROLE_ROOT,
    BadBody,
    admin_auth,
    current,
    fail,
    msg,
    ok,
    page,
    read_json,
    route,
)
from master.api.limit_fields import LimitFieldError, limit_changes, write_limits
from master.context import get_ctx
from master.db.schema import users
from master.logbook import LOG_MANAGE, format_quota, record_log
from master.users.model import (
    INT32_MAX,
    USER_DELETED,
    USER_DISABLED,
    USER_ENABLED,
    BodyTypeError,
    decode_user,
    insert_user,
    int_field,
    load_user,
    soft_delete,
    string_field,
    update_nonzero,
    user_json,
    validation_errors,
)
from master.users.wallet import admin_top_up

_ORDERS = {"quota": users.c.quota, "used_quota": users.c.used_quota, "request_count": users.c.request_count}
_GO_INT = re.compile(r"^[+-]?\d{1,18}$")  # what Go's Atoi takes (int64), bounded
_PLACEHOLDER_PASSWORD = "$I_LOVE_U"
NOT_FOUND = "record not found"  # gorm's text, which One API passes through


def _listed(row: object) -> dict:
    """Listings carry no credentials: the password hash and the access token are "" (One API showed
    every user's access token to any admin, root's included)."""
    return user_json(dict(row._mapping), omit=("password", "access_token"))  # type: ignore[attr-defined]


@admin_auth
async def list_users(request: Request) -> Response:
    ctx = get_ctx(request)
    column = _ORDERS.get(request.query_params.get("order", ""), users.c.id)
    query = (
        select(users)
        .where(users.c.status != USER_DELETED)
        .order_by(column.desc(), users.c.id.desc())
        .limit(ITEMS_PER_PAGE)
        .offset(page(request) * ITEMS_PER_PAGE)
    )
    async with ctx.store.main.connect() as conn:
        rows = (await conn.execute(query)).all()
    return ok([_listed(r) for r in rows])


@admin_auth
async def search_users(request: Request) -> Response:
    ctx = get_ctx(request)
    keyword = request.query_params.get("keyword", "")
    # LIKE wildcards in the keyword stay wildcards, as in One API.
    clauses: list[ColumnElement[bool]] = [
        users.c.username.like(keyword + "%"),
        users.c.email.like(keyword + "%"),
        users.c.display_name.like(keyword + "%"),
    ]
    if ctx.store.dialect != "postgresql" and _GO_INT.match(keyword) and abs(int(keyword)) <= INT32_MAX:
        clauses.append(users.c.id == int(keyword))  # One API drops `id =` on PostgreSQL
    async with ctx.store.main.connect() as conn:
        rows = (await conn.execute(select(users).where(or_(*clauses)).order_by(users.c.id))).all()
    return ok([_listed(r) for r in rows])


def _path_id(request: Request) -> int | None:
    raw = request.path_params["id"]
    return int(raw) if _GO_INT.match(raw) else None


@admin_auth
async def get_user(request: Request) -> Response:
    user_id = _path_id(request)
    if user_id is None:
        return fail(msg(request, "invalid_parameter"))
    row = await load_user(get_ctx(request), user_id)
    if row is None:
        return fail(NOT_FOUND)
    role = current(request).role
    if role <= (row["role"] or 0) and role != ROLE_ROOT:
        return fail("无权获取同级或更高等级用户的信息")
    return ok(user_json(row, omit=("password", "access_token")))


@admin_auth
async def create_user(request: Request) -> Response:
    try:
        user = decode_user(await read_json(request))
    except (BadBody, BodyTypeError):
        return fail(msg(request, "invalid_parameter"))
    if not user["username"] or not user["password"]:
        return fail(msg(request, "invalid_parameter"))
    if validation_errors(user):
        return fail(msg(request, "invalid_input"))
    if user["role"] >= current(request).role:
        return fail("无法创建权限大于等于自己的用户")
    # Only these three fields are taken from an admin's body: role and quota come from the new-user flow.
    _, error = await insert_user(get_ctx(request), user["username"], user["password"], user["display_name"] or user["username"])
    return fail(error) if error else ok()


@admin_auth
async def update_user(request: Request) -> Response:
    ctx = get_ctx(request)
    try:
        raw = await read_json(request)
        user, limits = decode_user(raw), limit_changes(raw)
    except (BadBody, BodyTypeError):
        return fail(msg(request, "invalid_parameter"))
    except LimitFieldError as exc:
        return fail(str(exc))
    if not user["id"]:
        return fail(msg(request, "invalid_parameter"))
    if validation_errors({**user, "password": user["password"] or _PLACEHOLDER_PASSWORD}):
        return fail(msg(request, "invalid_input"))
    origin = await load_user(ctx, user["id"])
    if origin is None:
        return fail(NOT_FOUND)
    role = current(request).role
    if role <= (origin["role"] or 0) and role != ROLE_ROOT:
        return fail("无权更新同权限等级或更高权限等级的用户信息")
    if role <= user["role"] and role != ROLE_ROOT:
        return fail("无权将其他用户权限等级提升到大于等于自己的权限等级")
    # Limits first: a 0 is written too (no limit), and update_nonzero bumps the config version after.
    await write_limits(ctx.store.main, users, user["id"], limits)
    error = await update_nonzero(ctx, user["id"], user, hash_new_password=bool(user["password"]))
    if error:
        return fail(error)
    old_quota = int(origin["quota"] or 0)
    # A zero quota is not written (gorm skips zero fields), so only a real change is logged.
    if user["quota"] and user["quota"] != old_quota:
        text = f"管理员将用户额度从 {format_quota(ctx, old_quota)}修改为 {format_quota(ctx, user['quota'])}"
        await record_log(ctx, user["id"], LOG_MANAGE, text)
    return ok()


@admin_auth
async def manage_user(request: Request) -> Response:
    ctx = get_ctx(request)
    try:
        body = await read_json(request)
        username, action = string_field(body, "username"), string_field(body, "action")
    except (BadBody, BodyTypeError):
        return fail(msg(request, "invalid_parameter"))
    row = None
    if username:  # One API's empty filter would pick the first user; an empty name matches nobody here
        async with ctx.store.main.connect() as conn:
            row = (await conn.execute(select(users).where(users.c.username == username))).mappings().first()
    if row is None:
        return fail("用户不存在")
    target_role, status = int(row["role"] or 0), int(row["status"] or 0)
    my_role = current(request).role
    if my_role <= target_role and my_role != ROLE_ROOT:
        return fail("无权更新同权限等级或更高权限等级的用户信息")
    if action == "disable":
        if target_role == ROLE_ROOT:
            return fail("无法禁用超级管理员用户")
        status = USER_DISABLED
    elif action == "enable":
        status = USER_ENABLED
    elif action == "delete":
        if target_role == ROLE_ROOT:
            return fail("无法删除超级管理员用户")
        await soft_delete(ctx, row["id"])
        status = USER_DELETED
    elif action == "promote":
        if my_role != ROLE_ROOT:
            return fail("普通管理员用户无法提升其他用户为管理员")
        if target_role >= ROLE_ADMIN:
            return fail("该用户已经是管理员")
        target_role = ROLE_ADMIN
    elif action == "demote":
        if target_role == ROLE_ROOT:
            return fail("无法降级超级管理员用户")
        if target_role == ROLE_COMMON:
            return fail("该用户已经是普通用户")
        target_role = ROLE_COMMON
    # An unknown action changes nothing and still succeeds, as in One API.
    if action != "delete":
        error = await update_nonzero(ctx, row["id"], {"role": target_role, "status": status}, hash_new_password=False)
        if error:
            return fail(error)
    return ok(user_json({"role": target_role, "status": status}))


@admin_auth
async def delete_user(request: Request) -> Response:
    user_id = _path_id(request)
    if user_id is None:
        return fail(msg(request, "invalid_parameter"))
    ctx = get_ctx(request)
    origin = await load_user(ctx, user_id)
    if origin is None:
        return fail(NOT_FOUND)
    if current(request).role <= (origin["role"] or 0):
        return fail("无权删除同权限等级或更高权限等级的用户")
    await soft_delete(ctx, user_id)
    # One API's quirk: a successful delete writes no body at all.
    return Response(status_code=200)


@admin_auth
async def top_up(request: Request) -> Response:
    try:
        body = await read_json(request)
        user_id, quota, remark = int_field(body, "user_id"), int_field(body, "quota"), string_field(body, "remark")
    except (BadBody, BodyTypeError):
        return fail(msg(request, "invalid_parameter"))
    error = await admin_top_up(get_ctx(request), user_id, quota, remark)
    return fail(error) if error else ok()


routes = [
    route("/api/user/", list_users, ["GET"]),
    route("/api/user/", create_user, ["POST"]),
    route("/api/user/", update_user, ["PUT"]),
    route("/api/user/search", search_users, ["GET"]),
    route("/api/user/manage", manage_user, ["POST"]),
    route("/api/topup", top_up, ["POST"]),
    # Last: any other segment is an id, and a non-numeric one gets invalid_parameter like gin's :id.
    route("/api/user/{id}", get_user, ["GET"]),
    route("/api/user/{id}", delete_user, ["DELETE"]),
]
