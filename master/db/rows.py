"""Small typed helpers over SQLAlchemy results, shared by the API modules and the monitors."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from sqlalchemy.engine import CursorResult

# A row as the code reads it: a RowMapping from a query or a plain dict built in memory. SQLAlchemy
# keys a RowMapping by column objects too, so `Mapping[str, Any]` would refuse it.
Record = Mapping[Any, Any]


def inserted_id(result: CursorResult[Any]) -> int:
    """The primary key of the one row an INSERT wrote."""
    key = result.inserted_primary_key
    if key is None:
        raise RuntimeError("the INSERT reported no primary key")
    return int(key[0])
