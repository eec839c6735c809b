"""How option strings read as values, as One API parses them: a flag is exactly "true", numbers
that do not parse are 0. Shared by the master's option map and the relay's snapshot."""

from __future__ import annotations

from collections.abc import Mapping


def flag(values: Mapping[str, str], key: str) -> bool:
    return values.get(key, "") == "true"


def number(values: Mapping[str, str], key: str) -> float:
    try:
        return float(values.get(key, "0") or 0)
    except ValueError:
        return 0.0


def integer(values: Mapping[str, str], key: str) -> int:
    return int(number(values, key))
