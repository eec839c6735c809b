"""Go-flavoured input parsing for management handlers.

One API binds request bodies into Go structs (`encoding/json`) and reads numbers with `strconv`.
These helpers reproduce the parts clients can observe: keys match struct tags case-insensitively,
`null` leaves the zero value, a wrong JSON type is an error, integers never come from floats, and
`strconv.Atoi` has its exact error texts.
"""

from __future__ import annotations

import json
import re
from typing import Any, Literal

from sqlalchemy import ColumnElement, false
from sqlalchemy.sql.elements import ColumnClause

Kind = Literal["int", "str", "bool", "str_or_null"]

INT64_MIN, INT64_MAX = -(2**63), 2**63 - 1
INT32_MIN, INT32_MAX = -(2**31), 2**31 - 1
_ZERO: dict[str, Any] = {"int": 0, "str": "", "bool": False, "str_or_null": None}
_DECIMAL = re.compile(r"[+-]?[0-9]+")


class BindError(ValueError):
    """The body does not fit the struct the handler binds it into."""


def _convert(name: str, kind: Kind, value: Any) -> Any:
    if value is None:
        return _ZERO[kind]
    if kind == "int":
        if isinstance(value, int) and not isinstance(value, bool) and INT64_MIN <= value <= INT64_MAX:
            return value
        raise BindError(f"json: cannot unmarshal {_json_kind(value)} into field {name} of type int64")
    if kind == "bool":
        if isinstance(value, bool):
            return value
        raise BindError(f"json: cannot unmarshal {_json_kind(value)} into field {name} of type bool")
    if isinstance(value, str):
        return value
    raise BindError(f"json: cannot unmarshal {_json_kind(value)} into field {name} of type string")


def _json_kind(value: Any) -> str:
    if isinstance(value, bool):
        return "bool"
    if isinstance(value, (int, float)):
        return f"number {value}"
    if isinstance(value, str):
        return "string"
    if isinstance(value, list):
        return "array"
    return "object"


def bind(body: dict[str, Any], fields: dict[str, Kind]) -> dict[str, Any]:
    """Every field of `fields` from `body`, zero-valued when absent or null; unknown keys are ignored.

    Like Go, keys match case-insensitively and a later key overwrites an earlier one.
    """
    out: dict[str, Any] = {name: _ZERO[kind] for name, kind in fields.items()}
    folded = {name.lower(): name for name in fields}
    for key, value in body.items():
        name = key if key in fields else folded.get(key.lower())
        if name is None:
            continue
        out[name] = _convert(name, fields[name], value)
    return out


def atoi(text: str) -> int:
    """`strconv.Atoi`: raises ValueError carrying Go's message."""
    if not _DECIMAL.fullmatch(text):
        raise ValueError(f"strconv.Atoi: parsing {json.dumps(text, ensure_ascii=False)}: invalid syntax")
    value = int(text)
    if not INT64_MIN <= value <= INT64_MAX:
        raise ValueError(f"strconv.Atoi: parsing {json.dumps(text, ensure_ascii=False)}: value out of range")
    return value


def path_id(text: str, no_id: str) -> int | str:
    """An item route's `:id` read by `strconv.Atoi`: the id, or the message to answer with
    (Go's parse error, or `no_id` for 0)."""
    try:
        value = atoi(text)
    except ValueError as exc:
        return str(exc)
    return value if value != 0 else no_id


def lenient_int(text: str | None) -> int:
    """`n, _ := strconv.Atoi(s)` / `ParseInt(s, 10, 64)`: 0 on bad syntax, clamped on overflow."""
    if not text or not _DECIMAL.fullmatch(text):
        return 0
    return max(INT64_MIN, min(INT64_MAX, int(text)))


def int32_eq(column: ColumnClause[Any] | Any, value: int) -> ColumnElement[bool]:
    """`column = value` for a 32-bit integer column; a value no row can hold matches nothing
    (PostgreSQL would reject the parameter instead of comparing)."""
    if not INT32_MIN <= value <= INT32_MAX:
        return false()
    return column == value
