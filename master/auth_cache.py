"""What every /api request checks, cached: which user a session belongs to, and that user's
current role and status.

The database is the truth; this cache only saves a query per request. It lives in the process
that answers /api (a single master, or worker 0 of `--workers N`: the other workers forward /api
there), which is also the process that makes every change, so a change invalidates it at once;
after a restart it starts empty. A short TTL bounds how long a change made outside the API (an
operator's SQL) can go unseen. A read that raced with an invalidation is not stored (generation
check), so a stale row fetched before a change can never be cached after it.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Generic, TypeVar

DEFAULT_CAPACITY = 10_000  # entries per map; the oldest go first
DEFAULT_TTL = 30.0  # seconds


@dataclass(frozen=True)
class CurrentUser:
    id: int
    username: str
    role: int
    status: int


@dataclass(frozen=True)
class SessionOwner:
    user_id: int
    expires_at: int  # unix seconds


V = TypeVar("V")


class _Missing:
    pass


MISSING = _Missing()


class _Bounded(Generic[V]):
    """A map with a capacity and a per-entry age limit; values may be None (known absent)."""

    def __init__(self, capacity: int, ttl: float, clock: Callable[[], float]) -> None:
        self.capacity, self.ttl, self.clock = capacity, ttl, clock
        self.entries: dict[object, tuple[float, V | None]] = {}

    def get(self, key: object) -> V | None | _Missing:
        entry = self.entries.get(key)
        if entry is None:
            return MISSING
        if self.clock() - entry[0] > self.ttl:
            del self.entries[key]
            return MISSING
        return entry[1]

    def put(self, key: object, value: V | None) -> None:
        self.entries.pop(key, None)
        while len(self.entries) >= self.capacity:
            del self.entries[next(iter(self.entries))]
        self.entries[key] = (self.clock(), value)


class AuthCache:
    def __init__(self, capacity: int = DEFAULT_CAPACITY, ttl: float = DEFAULT_TTL, clock: Callable[[], float] = time.monotonic) -> None:
        self.sessions: _Bounded[SessionOwner] = _Bounded(capacity, ttl, clock)
        self.users: _Bounded[CurrentUser] = _Bounded(capacity, ttl, clock)
        self.generation = 0  # bumped by every invalidation

    def session(self, key: str) -> SessionOwner | None | _Missing:
        return self.sessions.get(key)

    def user(self, user_id: int) -> CurrentUser | None | _Missing:
        return self.users.get(user_id)

    def put_session(self, key: str, owner: SessionOwner | None, generation: int) -> None:
        if generation == self.generation:
            self.sessions.put(key, owner)

    def put_user(self, user_id: int, state: CurrentUser | None, generation: int) -> None:
        if generation == self.generation:
            self.users.put(user_id, state)

    def forget_user(self, user_id: int) -> None:
        self.generation += 1
        self.users.entries.pop(user_id, None)

    def forget_session(self, key: str) -> None:
        self.generation += 1
        self.sessions.entries.pop(key, None)

    def forget_all_sessions(self) -> None:
        """After a user's sessions were deleted: which cached keys were theirs is not tracked, and
        such events (password, role or status changes) are rare enough to refill from the table."""
        self.generation += 1
        self.sessions.entries.clear()
