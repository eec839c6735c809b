"""Rate limits of docs/one-api-compat.md §8: a bare 429 past the limit, per IP, off under DEBUG."""

from __future__ import annotations

from pathlib import Path

import pytest

from master.ratelimit import Limit, RateLimiter
from tests.support.app import running_master
from tests.support.services import FreshDatabase


async def test_global_api_limit_answers_bare_429(sqlite_database: FreshDatabase) -> None:
    # The test client's socket is 127.0.0.1, trusted here so X-Forwarded-For can name another client.
    env = {**sqlite_database.env(), "GLOBAL_API_RATE_LIMIT": "3", "TRUSTED_PROXIES": "127.0.0.1"}
    async with running_master(env) as (_app, client):
        codes = [(await client.get("/api/status")).status_code for _ in range(4)]
        assert codes == [200, 200, 200, 429]
        blocked = await client.get("/api/notice")
        assert blocked.status_code == 429 and blocked.content == b""
        other_ip = await client.get("/api/status", headers={"X-Forwarded-For": "10.9.9.9"})
        assert other_ip.status_code == 200


async def test_critical_limit_on_login(sqlite_database: FreshDatabase) -> None:
    async with running_master(sqlite_database.env()) as (_app, client):
        body = {"username": "root", "password": "wrong-password"}
        codes = [(await client.post("/api/user/login", json=body)).status_code for _ in range(21)]
        assert codes[:20] == [200] * 20
        assert codes[20] == 429
        # the critical limiter does not touch other routes
        assert (await client.get("/api/status")).status_code == 200


async def test_debug_turns_limiters_off(sqlite_database: FreshDatabase) -> None:
    async with running_master({**sqlite_database.env(), "GLOBAL_API_RATE_LIMIT": "1", "DEBUG": "true"}) as (_app, client):
        assert [(await client.get("/api/status")).status_code for _ in range(3)] == [200, 200, 200]


async def test_sliding_log_frees_a_slot_after_the_window() -> None:
    limiter = RateLimiter()
    limit = Limit("T", 2, 60)
    assert await limiter.allow(limit, "1.1.1.1") and await limiter.allow(limit, "1.1.1.1")
    assert not await limiter.allow(limit, "1.1.1.1")
    # age the stored entries past the window instead of waiting for it
    stamps = limiter._logs["T1.1.1.1"]
    for i in range(len(stamps)):
        stamps[i] -= 61
    assert await limiter.allow(limit, "1.1.1.1")


@pytest.mark.db
async def test_redis_limiter_shares_the_log(tmp_path: Path) -> None:
    import redis.asyncio as aioredis

    from master.ratelimit import RedisRateLimiter
    from tests.support.services import fresh_redis_db, redis_url

    db = fresh_redis_db()
    client = aioredis.from_url(redis_url(db))
    try:
        first, second = RedisRateLimiter(client), RedisRateLimiter(client)
        limit = Limit("GA", 2, 180)
        assert await first.allow(limit, "2.2.2.2")
        assert await second.allow(limit, "2.2.2.2")
        assert not await first.allow(limit, "2.2.2.2")
        assert await client.llen("rateLimit:GA2.2.2.2") == 2
    finally:
        await client.aclose()
