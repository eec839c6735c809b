"""A master with REDIS_CONN_STRING: reservations go through the fleet's Redis counters
(shared.relay.redis_ledger), which the master seeds and keeps equal to the database minus what is
in flight (master.quota_counters)."""

from __future__ import annotations

import asyncio

import pytest
import redis.asyncio as aioredis

from shared.billing import tokenizer
from shared.relay.redis_ledger import RedisLedger, token_key, user_key
from tests.support.relay_kit import CHAT, relay_world
from tests.support.services import fresh_redis_db, redis_url

pytestmark = pytest.mark.db


def _redis_env() -> tuple[dict[str, str], str]:
    url = redis_url(fresh_redis_db())
    return {"REDIS_CONN_STRING": url}, url


async def _counter(url: str, key: str) -> int:
    client = aioredis.from_url(url)
    try:
        raw = await client.get(key)
    finally:
        await client.aclose()
    assert raw is not None, key
    return int(raw)


async def test_100_parallel_through_redis_serve_exactly_the_quota(database, fake_upstream) -> None:
    env, url = _redis_env()
    async with relay_world(database, fake_upstream, env) as w:
        assert isinstance(w.engine.ledger, RedisLedger)
        await w.option("PreConsumedQuota", "0")
        await w.ratio("ModelRatio", "flat-model", 1)
        await w.channel(models="flat-model")
        client, user_id = await w.user("erin", quota=1_000_000)
        estimate = await tokenizer.count_messages(CHAT, "flat-model")
        completion = 7
        cost = estimate + completion
        fake_upstream.configure(prompt_tokens=estimate, completion_tokens=completion)
        token = await w.token(client, unlimited_quota=False, remain_quota=10 * cost)
        assert await _counter(url, token_key(token["id"])) == 10 * cost  # seeded before first use

        async def one() -> int:
            return (await w.chat(token, model="flat-model", max_tokens=completion)).status_code

        statuses = await asyncio.gather(*(one() for _ in range(100)))
        assert statuses.count(200) == 10, statuses
        assert len(fake_upstream.requests) == 10

        await w.flush()
        t = await w.token_row(token["id"])
        assert (t["used_quota"], t["remain_quota"]) == (10 * cost, 0)
        u = await w.user_row(user_id)
        assert (u["quota"], u["used_quota"]) == (1_000_000 - 10 * cost, 10 * cost)
        assert await _counter(url, token_key(token["id"])) == 0
        assert await _counter(url, user_key(user_id)) == 1_000_000 - 10 * cost
        served = fake_upstream.served_usage_total()
        assert served["prompt_tokens"] + served["completion_tokens"] == 10 * cost
        await client.aclose()


async def test_admin_changes_keep_in_flight_reservations_counted(sqlite_database, fake_upstream) -> None:
    """A reservation is open (as during a long stream) while an admin sets the token's remain_quota,
    sets the user's quota, tops the user up and the user redeems a code: the counters move by the differences, so once the
    request settles they equal the database to the unit."""
    env, url = _redis_env()
    async with relay_world(sqlite_database, fake_upstream, env) as w:
        client, user_id = await w.user("frank", quota=10_000)
        token = await w.token(client, unlimited_quota=False, remain_quota=5_000)
        ledger, sink = w.engine.ledger, w.host.sink

        reservation = await ledger.reserve(token["id"], user_id, True, 700)  # what text.py does
        sink.spend(token["id"], user_id, True, 700)
        await w.flush()  # the reservation's delta is in the database too, as a batch would put it
        assert await _counter(url, token_key(token["id"])) == 4_300

        data = (await client.get(f"/api/token/{token['id']}")).json()["data"]
        resp = await client.put("/api/token/", json={**data, "remain_quota": 9_000})
        assert resp.json()["success"], resp.text
        await w.set_user(user_id, quota=20_000)
        resp = await w.root.post("/api/topup", json={"user_id": user_id, "quota": 500, "remark": "test"})
        assert resp.json()["success"], resp.text
        codes = (await w.root.post("/api/redemption/", json={"name": "promo", "quota": 300, "count": 1})).json()["data"]
        resp = await client.post("/api/user/topup", json={"key": codes[0]})
        assert resp.json()["success"], resp.text

        delta = await ledger.adjust(reservation, 250)  # the request ends, cheaper than reserved
        sink.spend(token["id"], user_id, True, delta)
        await w.flush()
        t = await w.token_row(token["id"])
        u = await w.user_row(user_id)
        assert t["remain_quota"] == 9_000 + 450
        assert u["quota"] == 20_000 + 500 + 300 + 450
        assert await _counter(url, token_key(token["id"])) == t["remain_quota"]
        assert await _counter(url, user_key(user_id)) == u["quota"]
        await client.aclose()
