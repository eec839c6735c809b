"""Channel administration (docs/one-api-compat.md §4.9) and GET /api/models (§4.5).

The request body is decoded the way Go decodes into One API's Channel struct: unknown keys are
ignored, `null` leaves a field unset, a value of the wrong JSON type is an error. Inserts apply
gorm's column defaults to zero values; updates write non-zero fields, plus the pointer fields
(weight, priority, base_url, model_mapping, system_prompt, other) whenever they are not null.
"""

from __future__ import annotations

import time
from collections.abc import Mapping
from functools import cache
from typing import Any

import orjson
from sqlalchemy import or_, select
from starlette.requests import Request
from starlette.responses import Response

from master.abilities import delete_abilities, rebuild_abilities
from master.api.common import (
    ITEMS_PER_PAGE,
    BadBody,
    JSONResponse,
    admin_auth,
    fail,
    msg,
    ok,
    page,
    read_json,
    route,
    user_auth,
)
from master.context import get_ctx
from master.db.rows import Record, inserted_id
from master.db.schema import channels
from master.dberrors import answer_db_errors
from master.gobind import int32_eq, lenient_int
from shared.catalog import model_catalogue, models_by_channel_type
from shared.relay.adaptors.registry import console_types

STATUS_ENABLED, STATUS_MANUALLY_DISABLED, STATUS_AUTO_DISABLED = 1, 2, 3

INT32 = (-(2**31), 2**31 - 1)
INT64 = (-(2**63), 2**63 - 1)
UINT32 = (0, 2**32 - 1)

# JSON field -> (Go type shown in errors, kind, value range, pointer field?), in One API's field order.
FIELDS: dict[str, tuple[str, str, tuple[int, int] | None, bool]] = {
    "id": ("int", "int", INT32, False),
    "type": ("int", "int", INT32, False),
    "key": ("string", "str", None, False),
    "status": ("int", "int", INT32, False),
    "name": ("string", "str", None, False),
    "weight": ("uint", "int", UINT32, True),
    "created_time": ("int64", "int", INT64, False),
    "test_time": ("int64", "int", INT64, False),
    "response_time": ("int", "int", INT32, False),
    "base_url": ("string", "str", None, True),
    "other": ("string", "str", None, True),
    "balance": ("float64", "float", None, False),
    "balance_updated_time": ("int64", "int", INT64, False),
    "models": ("string", "str", None, False),
    "group": ("string", "str", None, False),
    "used_quota": ("int64", "int", INT64, False),
    "model_mapping": ("string", "str", None, True),
    "priority": ("int64", "int", INT64, True),
    "config": ("string", "str", None, False),
    "system_prompt": ("string", "str", None, True),
}
ZERO = {"int": 0, "str": "", "float": 0.0}
# String columns with a length limit (characters).
MAX_LENGTH = {"name": 191, "base_url": 191, "group": 32, "model_mapping": 1024}
MAX_MODEL_LENGTH = 191

# Messages One API (gorm) gives for these cases.
MISSING_WHERE = "WHERE conditions required"
NOT_FOUND = "record not found"
EMPTY_BATCH = "empty slice found"
BAD_MAPPING = "模型映射必须是合法的 JSON 格式！"


class BadField(Exception):
    """A body field of the wrong type or an unacceptable value; the text is the reply message."""


def _json_kind(value: Any) -> str:
    if isinstance(value, bool):
        return "bool"
    if isinstance(value, (int, float)):
        return f"number {orjson.dumps(value).decode()}"
    if isinstance(value, str):
        return "string"
    return "array" if isinstance(value, list) else "object"


def _decode_field(name: str, value: Any) -> Any:
    go_type, kind, bounds, _ = FIELDS[name]
    wrong = BadField(f"json: cannot unmarshal {_json_kind(value)} into Go struct field Channel.{name} of type {go_type}")
    if kind == "str":
        if not isinstance(value, str):
            raise wrong
        return value
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise wrong
    if kind == "float":
        return float(value)
    low, high = bounds or (-(2**63), 2**63 - 1)
    if not isinstance(value, int) or not low <= value <= high:
        raise wrong
    return value


_FOLDED = {name.lower(): name for name in FIELDS}


def decode_channel(body: Mapping[str, Any]) -> dict[str, Any]:
    """The Channel fields present in a body (nulls dropped), type-checked and validated. Like Go,
    keys match case-insensitively and a later key overrides an earlier one."""
    fields: dict[str, Any] = {}
    for key, value in body.items():
        name = key if key in FIELDS else _FOLDED.get(key.lower())
        if name is None:
            continue
        if value is None:
            if FIELDS[name][3]:  # null resets a pointer field; a plain field keeps what it had
                fields.pop(name, None)
        else:
            fields[name] = _decode_field(name, value)
    for name, limit in MAX_LENGTH.items():
        if len(fields.get(name) or "") > limit:
            raise BadField(f"字段 {name} 过长：最多 {limit} 个字符")
    mapping = fields.get("model_mapping")
    if mapping:
        try:
            parsed = orjson.loads(mapping)
        except orjson.JSONDecodeError:
            raise BadField(BAD_MAPPING) from None
        if not isinstance(parsed, dict) or not all(isinstance(v, str) for v in parsed.values()):
            raise BadField(BAD_MAPPING)
    if any(len(m) > MAX_MODEL_LENGTH for m in (fields.get("models") or "").split(",")):
        raise BadField(f"模型名称过长：每个模型最多 {MAX_MODEL_LENGTH} 个字符")
    return fields


def channel_json(row: Record, with_key: bool) -> dict[str, Any]:
    """A channel as One API serialises it: every field, NULL as the Go zero value except in
    pointer fields (which stay null); `key` is "" unless asked for."""
    out: dict[str, Any] = {}
    for name, (_, kind, _, pointer) in FIELDS.items():
        value = row.get(name)
        out[name] = value if value is not None or pointer else ZERO[kind]
    if out["balance"] is not None:
        out["balance"] = float(out["balance"])
    if not with_key:
        out["key"] = ""
    return out


def insert_values(fields: Mapping[str, Any], key: str, now: int) -> dict[str, Any]:
    """Column values of a new channel: gorm's defaults replace zero values where a column declares one."""
    values = {name: fields.get(name, None if pointer else ZERO[kind]) for name, (_, kind, _, pointer) in FIELDS.items()}
    del values["id"]
    values.update(key=key, created_time=now)
    values["status"] = values["status"] or STATUS_ENABLED
    values["group"] = values["group"] or "default"
    for name, default in (("weight", 0), ("base_url", ""), ("model_mapping", ""), ("priority", 0)):
        if values[name] is None:
            values[name] = default
    return values


def update_values(fields: Mapping[str, Any]) -> dict[str, Any]:
    """Columns an update writes: non-zero plain fields and every non-null pointer field."""
    return {name: value for name, value in fields.items() if name != "id" and (FIELDS[name][3] or value != ZERO[FIELDS[name][1]])}


_LISTED = [c for c in channels.c if c.name != "key"]


def _rows(result: Any) -> list[dict[str, Any]]:
    return [channel_json(row._mapping, with_key=False) for row in result]


async def _decoded_body(request: Request) -> dict[str, Any] | Response:
    try:
        return decode_channel(await read_json(request))
    except BadBody:
        return fail(msg(request, "invalid_parameter"))
    except BadField as exc:
        return fail(str(exc))


@admin_auth
@answer_db_errors
async def list_channels(request: Request) -> Response:
    query = select(*_LISTED).order_by(channels.c.id.desc()).limit(ITEMS_PER_PAGE).offset(page(request) * ITEMS_PER_PAGE)
    async with get_ctx(request).store.main.connect() as conn:
        return ok(_rows(await conn.execute(query)))


@admin_auth
@answer_db_errors
async def search_channels(request: Request) -> Response:
    keyword = request.query_params.get("keyword", "")
    query = (
        select(*_LISTED)
        .where(or_(int32_eq(channels.c.id, lenient_int(keyword)), channels.c.name.like(keyword + "%")))
        .order_by(channels.c.id.desc())
    )
    async with get_ctx(request).store.main.connect() as conn:
        return ok(_rows(await conn.execute(query)))


@cache
def _catalogue_body() -> bytes:
    return orjson.dumps({"object": "list", "data": model_catalogue()})


@admin_auth
@answer_db_errors
async def list_catalogue(request: Request) -> Response:
    """Not enveloped: the OpenAI model list of the whole static catalogue."""
    return Response(_catalogue_body(), media_type=JSONResponse.media_type)


@admin_auth
@answer_db_errors
async def get_channel(request: Request) -> Response:
    if request.path_params["id"] > INT32[1]:
        return fail(NOT_FOUND)
    query = select(*_LISTED).where(channels.c.id == request.path_params["id"])
    async with get_ctx(request).store.main.connect() as conn:
        row = (await conn.execute(query)).first()
    return ok(channel_json(row._mapping, with_key=False)) if row else fail(NOT_FOUND)


@admin_auth
@answer_db_errors
async def add_channels(request: Request) -> Response:
    """Batch add: one channel per non-empty line of `key`, the other fields shared."""
    fields = await _decoded_body(request)
    if isinstance(fields, Response):
        return fields
    keys = [line for line in fields.get("key", "").split("\n") if line]
    if not keys:
        return fail(EMPTY_BATCH)
    ctx = get_ctx(request)
    now = int(time.time())
    async with ctx.store.main.begin() as conn:
        for key in keys:
            values = insert_values(fields, key, now)
            new_id = inserted_id(await conn.execute(channels.insert().values(**values)))
            await rebuild_abilities(conn, {**values, "id": new_id})
    await ctx.changed("channel")
    return ok()


@admin_auth
@answer_db_errors
async def update_channel(request: Request) -> Response:
    fields = await _decoded_body(request)
    if isinstance(fields, Response):
        return fields
    channel_id = fields.get("id", 0)
    if not channel_id:
        return fail(MISSING_WHERE)
    ctx = get_ctx(request)
    values = update_values(fields)
    async with ctx.store.main.begin() as conn:
        if values:
            await conn.execute(channels.update().where(channels.c.id == channel_id).values(**values))
        row = (await conn.execute(select(channels).where(channels.c.id == channel_id))).first()
        if row is None:
            return fail(NOT_FOUND)
        await rebuild_abilities(conn, row._mapping)
    await ctx.changed("channel")
    return ok(channel_json(row._mapping, with_key=False))  # the stored key never leaves the database


@admin_auth
@answer_db_errors
async def delete_channel(request: Request) -> Response:
    channel_id = request.path_params["id"]
    if not channel_id:
        return fail(MISSING_WHERE)
    if channel_id > INT32[1]:  # no such row; the column is 32-bit
        return ok()
    ctx = get_ctx(request)
    async with ctx.store.main.begin() as conn:
        await conn.execute(channels.delete().where(channels.c.id == channel_id))
        await delete_abilities(conn, channel_id)
    await ctx.changed("channel")
    return ok()


@admin_auth
@answer_db_errors
async def delete_disabled_channels(request: Request) -> Response:
    """Deletes channels with status 2 or 3; like One API, their ability rows stay (disabled)."""
    ctx = get_ctx(request)
    disabled = channels.c.status.in_([STATUS_MANUALLY_DISABLED, STATUS_AUTO_DISABLED])
    async with ctx.store.main.begin() as conn:
        deleted = (await conn.execute(channels.delete().where(disabled))).rowcount
    await ctx.changed("channel")
    return ok(deleted)


@user_auth
@answer_db_errors
async def models_by_type(request: Request) -> Response:
    return ok(dict(models_by_channel_type()))


@admin_auth
async def channel_types(request: Request) -> Response:
    """The console's channel type list and per-type form fields, from the provider registry (not in
    One API: its console hard-codes them)."""
    return ok(console_types())


# Static paths first: the item routes only take numeric ids, so other modules' single-segment
# paths under /api/channel/ (test, update_balance) never fall into them.
routes = [
    route("/api/channel/", list_channels, ["GET"]),
    route("/api/channel/", add_channels, ["POST"]),
    route("/api/channel/", update_channel, ["PUT"]),
    route("/api/channel/search", search_channels, ["GET"]),
    route("/api/channel/models", list_catalogue, ["GET"]),
    route("/api/channel/types", channel_types, ["GET"]),
    route("/api/channel/disabled", delete_disabled_channels, ["DELETE"]),
    route("/api/channel/{id:int}", get_channel, ["GET"]),
    route("/api/channel/{id:int}", delete_channel, ["DELETE"]),
    route("/api/models", models_by_type, ["GET"]),
]
