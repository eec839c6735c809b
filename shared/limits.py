"""The rate limits a token, a user or a group carries (enforced by shared.relay.ratelimit).

Three fields, named as the token and user JSON name them; 0 (or absent, or NULL) is no limit.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

LIMIT_FIELDS = ("rpm_limit", "tpm_limit", "max_parallel_requests")
MAX_LIMIT = 10**12  # larger values are refused by the management API and the option check


@dataclass(frozen=True, slots=True)
class Limits:
    rpm: int = 0  # requests per minute
    tpm: int = 0  # tokens per minute
    parallel: int = 0  # requests running at once

    @property
    def any(self) -> bool:
        return bool(self.rpm or self.tpm or self.parallel)

    def tighten(self, other: Limits) -> Limits:
        """Each field the smaller non-zero of the two (0 means no limit)."""
        return Limits(_tighter(self.rpm, other.rpm), _tighter(self.tpm, other.tpm), _tighter(self.parallel, other.parallel))

    def as_json(self) -> dict[str, int]:
        return {"rpm_limit": self.rpm, "tpm_limit": self.tpm, "max_parallel_requests": self.parallel}


NO_LIMITS = Limits()


def _tighter(a: int, b: int) -> int:
    if a and b:
        return min(a, b)
    return a or b


def limits_of(row: Mapping[str, Any]) -> Limits:
    """The three limit fields of a token or user row."""
    return Limits(int(row.get("rpm_limit") or 0), int(row.get("tpm_limit") or 0), int(row.get("max_parallel_requests") or 0))


def limit_value_error(name: str, value: Any) -> str | None:
    """Why `value` is not a valid limit field, or None."""
    if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= MAX_LIMIT:
        return f"{name} must be an integer between 0 and {MAX_LIMIT}"
    return None
