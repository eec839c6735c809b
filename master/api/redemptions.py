"""Redemption codes (docs/one-api-compat.md §4.10, AdminAuth): list, search, get, batch create, update, delete."""

from __future__ import annotations

import time
from typing import Any

from sqlalchemy import Row, delete, insert, or_, select, update
from sqlalchemy.exc import SQLAlchemyError
from starlette.requests import Request
from starlette.responses import Response

from master.api.common import ITEMS_PER_PAGE, BadBody, admin_auth, current, fail, msg, ok, page, read_json, route
from master.context import get_ctx
from master.db.schema import redemptions
from master.dberrors import answer_db_errors, db_error_text
from master.gobind import BindError, Kind, atoi, bind, int32_eq, lenient_int, path_id
from shared.keys import uuid_hex

REDEMPTION_ENABLED, REDEMPTION_DISABLED, REDEMPTION_USED = 1, 2, 3
DEFAULT_QUOTA = 100  # the column default gorm applies to a zero quota on insert
MAX_BATCH = 100
MAX_NAME_BYTES = 20
MAX_PAGE = 10**15

NOT_FOUND = "record not found"
NO_ID = "id 为空！"

REDEMPTION_BODY: dict[str, Kind] = {
    "id": "int",
    "user_id": "int",
    "key": "str",
    "status": "int",
    "name": "str",
    "quota": "int",
    "created_time": "int",
    "redeemed_time": "int",
    "count": "int",
}

COLUMNS = [
    redemptions.c.id,
    redemptions.c.user_id,
    redemptions.c.key,
    redemptions.c.status,
    redemptions.c.name,
    redemptions.c.quota,
    redemptions.c.created_time,
    redemptions.c.redeemed_time,
]


def redemption_json(row: Row[Any] | dict[str, Any]) -> dict[str, Any]:
    """A code as One API serialises it; `count` is a request-only field that still shows as 0."""
    data = row._mapping if isinstance(row, Row) else row
    return {
        "id": data["id"],
        "user_id": data["user_id"] or 0,
        "key": data["key"] or "",
        "status": data["status"] or 0,
        "name": data["name"] or "",
        "quota": data["quota"] or 0,
        "created_time": data["created_time"] or 0,
        "redeemed_time": data["redeemed_time"] or 0,
        "count": 0,
    }


async def _rows(request: Request, query: Any) -> list[dict[str, Any]]:
    async with get_ctx(request).store.main.connect() as conn:
        return [redemption_json(r) for r in (await conn.execute(query)).all()]


async def _fetch(request: Request, redemption_id: int) -> Row[Any] | None:
    async with get_ctx(request).store.main.connect() as conn:
        return (await conn.execute(select(*COLUMNS).where(int32_eq(redemptions.c.id, redemption_id)))).first()


@admin_auth
@answer_db_errors
async def list_redemptions(request: Request) -> Response:
    query = select(*COLUMNS).order_by(redemptions.c.id.desc()).limit(ITEMS_PER_PAGE).offset(min(page(request), MAX_PAGE) * ITEMS_PER_PAGE)
    return ok(await _rows(request, query))


@admin_auth
@answer_db_errors
async def search_redemptions(request: Request) -> Response:
    keyword = request.query_params.get("keyword", "")
    by_name = redemptions.c.name.like(keyword + "%")
    try:
        condition = or_(int32_eq(redemptions.c.id, atoi(keyword)), by_name)
    except ValueError:  # a non-numeric keyword can only match names
        condition = by_name
    return ok(await _rows(request, select(*COLUMNS).where(condition).order_by(redemptions.c.id)))


@admin_auth
@answer_db_errors
async def get_redemption(request: Request) -> Response:
    redemption_id = path_id(request.path_params["id"], NO_ID)
    if isinstance(redemption_id, str):
        return fail(redemption_id)
    row = await _fetch(request, redemption_id)
    return ok(redemption_json(row)) if row else fail(NOT_FOUND)


@admin_auth
@answer_db_errors
async def create_redemptions(request: Request) -> Response:
    try:
        body = bind(await read_json(request), REDEMPTION_BODY)
    except (BadBody, BindError):
        return fail(msg(request, "invalid_parameter"))
    name_bytes = len(body["name"].encode())
    if name_bytes == 0 or name_bytes > MAX_NAME_BYTES:
        return fail("兑换码名称长度必须在1-20之间")
    if body["count"] <= 0:
        return fail("兑换码个数必须大于0")
    if body["count"] > MAX_BATCH:
        return fail("一次兑换码批量生成的个数不能大于 100")
    ctx = get_ctx(request)
    keys: list[str] = []
    # One insert per code, as One API does: a failure reports the codes already created.
    for _ in range(body["count"]):
        key = uuid_hex()
        values = {
            "user_id": current(request).id,
            "key": key,
            "status": REDEMPTION_ENABLED,
            "name": body["name"],
            "quota": body["quota"] or DEFAULT_QUOTA,
            "created_time": int(time.time()),
            "redeemed_time": 0,
        }
        try:
            async with ctx.store.main.begin() as conn:
                await conn.execute(insert(redemptions).values(**values))
        except SQLAlchemyError as exc:
            if keys:
                await ctx.changed("redemption")
            return fail(db_error_text(exc), data=keys or None)  # Go's nil slice is null
        keys.append(key)
    await ctx.changed("redemption")
    return ok(keys)


@admin_auth
@answer_db_errors
async def update_redemption(request: Request) -> Response:
    try:
        body = bind(await read_json(request), REDEMPTION_BODY)
    except (BadBody, BindError):
        return fail(msg(request, "invalid_parameter"))
    if body["id"] == 0:
        return fail(NO_ID)
    row = await _fetch(request, body["id"])
    if row is None:
        return fail(NOT_FOUND)
    values = redemption_json(row)
    if request.query_params.get("status_only", ""):
        values["status"] = body["status"]
    else:
        values["name"], values["quota"] = body["name"], body["quota"]
    # The explicit column list of Redemption.Update: zero values are written too.
    written = {k: values[k] for k in ("name", "status", "quota", "redeemed_time")}
    ctx = get_ctx(request)
    async with ctx.store.main.begin() as conn:
        await conn.execute(update(redemptions).where(redemptions.c.id == row.id).values(**written))
    await ctx.changed("redemption")
    return ok(values)


@admin_auth
@answer_db_errors
async def delete_redemption(request: Request) -> Response:
    redemption_id = lenient_int(request.path_params["id"])
    if redemption_id == 0:
        return fail(NO_ID)
    ctx = get_ctx(request)
    async with ctx.store.main.begin() as conn:
        deleted = (await conn.execute(delete(redemptions).where(int32_eq(redemptions.c.id, redemption_id)))).rowcount
    if not deleted:
        return fail(NOT_FOUND)
    await ctx.changed("redemption")
    return ok()


routes = [
    route("/api/redemption/", list_redemptions, ["GET"]),
    route("/api/redemption/search", search_redemptions, ["GET"]),
    route("/api/redemption/{id}", get_redemption, ["GET"]),
    route("/api/redemption/", create_redemptions, ["POST"]),
    route("/api/redemption/", update_redemption, ["PUT"]),
    route("/api/redemption/{id}", delete_redemption, ["DELETE"]),
]
