"""The rate-limit fields of the token and user JSON (shared.limits), at the management API edge.

They are ours, not One API's: its console ignores them in answers and leaves them out of the
bodies it sends, so an update writes only the limit fields a body actually carries.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from sqlalchemy import Table, update
from sqlalchemy.ext.asyncio import AsyncEngine

from master.db.rows import Record
from shared.limits import LIMIT_FIELDS, limit_value_error


class LimitFieldError(ValueError):
    """A limit field that is not an integer in range; the message says which."""


def limit_json(row: Record) -> dict[str, int]:
    """The three fields of a row for the JSON answer (a missing column reads as 0)."""
    return {name: int(row.get(name) or 0) for name in LIMIT_FIELDS}


def limit_changes(body: Mapping[str, Any]) -> dict[str, int]:
    """The limit fields present in a request body (null counts as 0); raises LimitFieldError."""
    out: dict[str, int] = {}
    for name in LIMIT_FIELDS:
        if name not in body:
            continue
        value = body[name] if body[name] is not None else 0
        problem = limit_value_error(name, value)
        if problem:
            raise LimitFieldError(problem)
        out[name] = value
    return out


async def write_limits(engine: AsyncEngine, table: Table, row_id: int, changes: Mapping[str, int]) -> None:
    """Store the limit fields of one row (the caller bumps the config version)."""
    if changes:
        async with engine.begin() as conn:
            await conn.execute(update(table).where(table.c.id == row_id).values(**changes))
