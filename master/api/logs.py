"""Logs and groups (docs/one-api-compat.md §4.11): filtered pages, searches, quota sums, pruning, group names.

Logs live in `store.logs` (possibly the LOG_SQL_DSN database). Query parameters are read the way
One API reads them: numbers that do not parse are 0, and 0 or "" means "no filter".
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import ColumnElement, Row, and_, delete, func, or_, select
from starlette.requests import Request
from starlette.responses import Response

from master.api.common import ITEMS_PER_PAGE, admin_auth, current, fail, ok, page, route, user_auth
from master.context import get_ctx
from master.db.schema import logs
from master.dberrors import answer_db_errors
from master.gobind import atoi, int32_eq, lenient_int
from master.logbook import LOG_CONSUME, LOG_UNKNOWN

MAX_RECENT_ITEMS = 100
MAX_PAGE = 10**15


def log_json(row: Row[Any], hide_id: bool = False) -> dict[str, Any]:
    """A log row as One API serialises it: the channel_id column is `channel`; self views omit the id."""
    return {
        "id": 0 if hide_id else row.id,
        "user_id": row.user_id or 0,
        "created_at": row.created_at or 0,
        "type": row.type or 0,
        "content": row.content or "",
        "username": row.username or "",
        "token_name": row.token_name or "",
        "model_name": row.model_name or "",
        "quota": row.quota or 0,
        "prompt_tokens": row.prompt_tokens or 0,
        "completion_tokens": row.completion_tokens or 0,
        "channel": row.channel_id or 0,
        "request_id": row.request_id or "",
        "elapsed_time": row.elapsed_time or 0,
        "is_stream": bool(row.is_stream),
        "system_prompt_reset": bool(row.system_prompt_reset),
    }


def _filters(request: Request, names: tuple[str, ...]) -> list[ColumnElement[bool]]:
    """Conditions for the named query parameters that are present and non-zero."""
    q = request.query_params
    conditions: list[ColumnElement[bool]] = []
    if "type" in names and (log_type := lenient_int(q.get("type"))) != LOG_UNKNOWN:
        conditions.append(int32_eq(logs.c.type, log_type))
    for name in ("model_name", "username", "token_name"):
        if name in names and (value := q.get(name, "")):
            conditions.append(logs.c[name] == value)
    if (start := lenient_int(q.get("start_timestamp"))) != 0:
        conditions.append(logs.c.created_at >= start)
    if (end := lenient_int(q.get("end_timestamp"))) != 0:
        conditions.append(logs.c.created_at <= end)
    if "channel" in names and (channel := lenient_int(q.get("channel"))) != 0:
        conditions.append(int32_eq(logs.c.channel_id, channel))
    return conditions


async def _page(request: Request, conditions: list[ColumnElement[bool]], hide_id: bool) -> Response:
    query = (
        select(logs)
        .where(*conditions)
        .order_by(logs.c.id.desc())
        .limit(ITEMS_PER_PAGE)
        .offset(min(page(request), MAX_PAGE) * ITEMS_PER_PAGE)
    )
    async with get_ctx(request).store.logs.connect() as conn:
        rows = (await conn.execute(query)).all()
    return ok([log_json(r, hide_id) for r in rows])


async def _recent(request: Request, condition: ColumnElement[bool], hide_id: bool) -> Response:
    query = select(logs).where(condition).order_by(logs.c.id.desc()).limit(MAX_RECENT_ITEMS)
    async with get_ctx(request).store.logs.connect() as conn:
        rows = (await conn.execute(query)).all()
    return ok([log_json(r, hide_id) for r in rows])


async def _quota_sum(request: Request, conditions: list[ColumnElement[bool]]) -> Response:
    """Sum of quota over consume logs only (any `type` parameter is ignored, as in One API)."""
    query = select(func.coalesce(func.sum(logs.c.quota), 0)).where(*conditions, logs.c.type == LOG_CONSUME)
    async with get_ctx(request).store.logs.connect() as conn:
        total = (await conn.execute(query)).scalar_one()
    return ok({"quota": int(total)})


@admin_auth
@answer_db_errors
async def all_logs(request: Request) -> Response:
    names = ("type", "model_name", "username", "token_name", "channel")
    return await _page(request, _filters(request, names), hide_id=False)


@admin_auth
@answer_db_errors
async def delete_old_logs(request: Request) -> Response:
    target = lenient_int(request.query_params.get("target_timestamp"))
    if target == 0:
        return fail("target timestamp is required")
    async with get_ctx(request).store.logs.begin() as conn:
        deleted = (await conn.execute(delete(logs).where(logs.c.created_at < target))).rowcount
    return ok(deleted)


@admin_auth
@answer_db_errors
async def logs_stat(request: Request) -> Response:
    return await _quota_sum(request, _filters(request, ("model_name", "username", "token_name", "channel")))


@user_auth
@answer_db_errors
async def self_logs_stat(request: Request) -> Response:
    conditions = _filters(request, ("model_name", "token_name", "channel"))
    # By id: a username can be renamed or reused by another account, an id cannot.
    return await _quota_sum(request, [*conditions, logs.c.user_id == current(request).id])


@admin_auth
@answer_db_errors
async def search_all_logs(request: Request) -> Response:
    keyword = request.query_params.get("keyword", "")
    by_content = logs.c.content.like(keyword + "%")
    try:
        condition = or_(int32_eq(logs.c.type, atoi(keyword)), by_content)
    except ValueError:  # a non-numeric keyword cannot equal the integer type column
        condition = by_content
    return await _recent(request, condition, hide_id=False)


@user_auth
@answer_db_errors
async def self_logs(request: Request) -> Response:
    conditions = _filters(request, ("type", "model_name", "token_name"))
    return await _page(request, [logs.c.user_id == current(request).id, *conditions], hide_id=True)


@user_auth
@answer_db_errors
async def search_self_logs(request: Request) -> Response:
    try:
        by_type = int32_eq(logs.c.type, atoi(request.query_params.get("keyword", "")))
    except ValueError:  # the keyword is compared with the type column only
        return ok([])
    return await _recent(request, and_(logs.c.user_id == current(request).id, by_type), hide_id=True)


@admin_auth
@answer_db_errors
async def groups(request: Request) -> Response:
    return ok(list(get_ctx(request).options.ratio_map("GroupRatio")))


routes = [
    route("/api/log/", all_logs, ["GET"]),
    route("/api/log/", delete_old_logs, ["DELETE"]),
    route("/api/log/stat", logs_stat, ["GET"]),
    route("/api/log/self/stat", self_logs_stat, ["GET"]),
    route("/api/log/search", search_all_logs, ["GET"]),
    route("/api/log/self", self_logs, ["GET"]),
    route("/api/log/self/search", search_self_logs, ["GET"]),
    route("/api/group/", groups, ["GET"]),
]
