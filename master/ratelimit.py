"""Sliding-log rate limiters of docs/one-api-compat.md §8, in memory or in Redis.

Key = mark + client IP. A limiter with max 0, or any limiter under DEBUG=true, lets everything
through. Exceeding answers a bare 429.
"""

from __future__ import annotations

import time
from collections import deque
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING

from shared.logs import get_logger

if TYPE_CHECKING:
    from redis.asyncio import Redis

log = get_logger(__name__)

KEY_EXPIRATION = 20 * 60


@dataclass(frozen=True)
class Limit:
    mark: str
    max_requests: int
    window: int


CRITICAL = Limit("CT", 20, 1200)


class RateLimiter:
    """In-memory limiter; `RedisRateLimiter` keeps the same interface across nodes."""

    def __init__(self, disabled: bool = False) -> None:
        self.disabled = disabled
        self._logs: dict[str, deque[float]] = {}
        self._last_sweep = time.monotonic()

    async def allow(self, limit: Limit, ip: str) -> bool:
        if self.disabled or limit.max_requests <= 0:
            return True
        now = time.time()
        self._sweep(now)
        key = limit.mark + ip
        stamps = self._logs.get(key)
        if stamps is None:
            stamps = self._logs[key] = deque()
        if len(stamps) < limit.max_requests:
            stamps.append(now)
            return True
        if now - stamps[0] < limit.window:
            return False
        stamps.popleft()
        stamps.append(now)
        return True

    def _sweep(self, now: float) -> None:
        if time.monotonic() - self._last_sweep < KEY_EXPIRATION:
            return
        self._last_sweep = time.monotonic()
        stale = [k for k, v in self._logs.items() if not v or now - v[-1] > KEY_EXPIRATION]
        for key in stale:
            del self._logs[key]


class RedisRateLimiter(RateLimiter):
    """The same sliding log kept in Redis lists `rateLimit:<mark><ip>`, shared by every node."""

    def __init__(self, redis: Redis, disabled: bool = False) -> None:
        super().__init__(disabled)
        self.redis = redis

    async def allow(self, limit: Limit, ip: str) -> bool:
        if self.disabled or limit.max_requests <= 0:
            return True
        key = f"rateLimit:{limit.mark}{ip}"
        r = self.redis
        now = datetime.now()
        stamp = now.strftime("%Y-%m-%dT%H:%M:%S.") + f"{now.microsecond // 1000:03d}Z"
        length = await r.llen(key)
        if length < limit.max_requests:
            await r.lpush(key, stamp)
            await r.expire(key, KEY_EXPIRATION)
            return True
        oldest = await r.lindex(key, -1)
        oldest_text = oldest.decode() if isinstance(oldest, bytes) else str(oldest)
        try:
            then = datetime.strptime(oldest_text, "%Y-%m-%dT%H:%M:%S.%fZ")
        except ValueError:
            then = datetime.fromtimestamp(0)
        if int((now - then).total_seconds()) < limit.window:
            await r.expire(key, KEY_EXPIRATION)
            return False
        await r.lpush(key, stamp)
        await r.ltrim(key, 0, limit.max_requests - 1)
        await r.expire(key, KEY_EXPIRATION)
        return True
