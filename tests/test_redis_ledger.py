"""Fleet-wide quota counters (shared.relay.redis_ledger, master.quota_counters) against real Redis:
the Lua scripts, many coroutines on two separate clients, the fallback when Redis is down, and the
master's seeding and reconciliation."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import pytest
import redis.asyncio as aioredis

from master.quota_counters import MARKER, CounterKeeper
from shared.relay.ledger import QuotaRefused, Reservation
from shared.relay.redis_ledger import RedisLedger, connect, token_key, user_key
from shared.relay.sink import DeltaBatch
from shared.snapshot import build_snapshot
from tests.support.services import fresh_redis_db
from tests.support.services import redis_url as url_of

pytestmark = pytest.mark.db


@pytest.fixture
async def redis_url() -> AsyncIterator[str]:
    yield url_of(fresh_redis_db())


async def _client(url: str) -> aioredis.Redis:
    return connect(url)


async def _value(client: aioredis.Redis, key: str) -> int:
    raw = await client.get(key)
    assert raw is not None, key
    return int(raw)


async def test_reserve_refuses_naming_the_short_side(redis_url: str) -> None:
    client = await _client(redis_url)
    try:
        await client.mset({token_key(1): 100, user_key(7): 1000, token_key(2): 5000})
        ledger = RedisLedger(client)
        with pytest.raises(QuotaRefused) as refused:
            await ledger.reserve(1, 7, True, 101)
        assert refused.value.which == "token"
        with pytest.raises(QuotaRefused) as refused:
            await ledger.reserve(2, 7, True, 1001)
        assert refused.value.which == "user"
        # An unlimited token is never checked nor debited; the user still is.
        await ledger.reserve(1, 7, False, 900)
        assert (await _value(client, token_key(1)), await _value(client, user_key(7))) == (100, 100)
        # Refusals touched nothing; the cache shows what Redis answered.
        assert ledger.token_balance(1) == 100 and ledger.user_balance(7) == 100
        assert not ledger.owed_tokens and not ledger.owed_users
    finally:
        await client.aclose()


async def test_settle_applies_the_difference_unconditionally(redis_url: str) -> None:
    client = await _client(redis_url)
    try:
        await client.mset({token_key(1): 100, user_key(7): 100})
        ledger = RedisLedger(client)
        reservation = await ledger.reserve(1, 7, True, 60)
        assert await ledger.adjust(reservation, 130) == 70  # settles above the balance: allowed
        assert (await _value(client, token_key(1)), await _value(client, user_key(7))) == (-30, -30)
        refund = await ledger.reserve(1, 7, True, 0)
        await ledger.adjust(refund, -10)  # a negative final is a refund to both
        await ledger.charge(1, 7, True, 5)
        assert (await _value(client, token_key(1)), await _value(client, user_key(7))) == (-25, -25)
        assert ledger.token_used[1] == 125 and ledger.token_balance(1) == -25
    finally:
        await client.aclose()


async def test_many_coroutines_on_two_clients_never_overspend(redis_url: str) -> None:
    """Two nodes' clients, 400 reservations of 7 at once against 1000 (token) and 2000 (user):
    exactly 142 fit the token; each then settles at 5, so the token holds 1000 - 142×5."""
    a, b = await _client(redis_url), await _client(redis_url)
    try:
        await a.mset({token_key(3): 1000, user_key(9): 2000})
        ledgers = [RedisLedger(a), RedisLedger(b)]

        async def one(i: int) -> Reservation | None:
            try:
                return await ledgers[i % 2].reserve(3, 9, True, 7)
            except QuotaRefused as refused:
                assert refused.which == "token"
                return None

        held = [r for r in await asyncio.gather(*(one(i) for i in range(400))) if r is not None]
        served = len(held)
        await asyncio.gather(*(ledgers[i % 2].adjust(r, 5) for i, r in enumerate(held)))
        assert served == 1000 // 7
        assert await _value(a, token_key(3)) == 1000 - served * 5
        assert await _value(a, user_key(9)) == 2000 - served * 5
    finally:
        await a.aclose()
        await b.aclose()


async def test_redis_down_fails_open_to_local_balances_and_replays(redis_url: str) -> None:
    """Decision (README "The quota bound"): relaying continues on the node's own balances while
    Redis does not answer; what it spent meanwhile reaches the counters once Redis is back."""
    live = await _client(redis_url)
    dead = aioredis.from_url("redis://127.0.0.1:1/0", socket_timeout=0.5, socket_connect_timeout=0.5)
    try:
        await live.mset({token_key(1): 100, user_key(7): 1000})
        ledger = RedisLedger(dead)
        ledger.token_remain.offsets, ledger.user_quota.offsets = {1: 100}, {7: 1000}  # what a reseed would hold
        reservation = await ledger.reserve(1, 7, True, 60)
        with pytest.raises(QuotaRefused):  # the local balance still bounds it
            await ledger.reserve(1, 7, True, 41)
        await ledger.adjust(reservation, 50)
        assert (ledger.owed_tokens, ledger.owed_users) == ({1: 50}, {7: 50})
        assert (await _value(live, token_key(1)), await _value(live, user_key(7))) == (100, 1000)

        ledger.redis = live  # Redis answers again
        await ledger.replay()
        assert (ledger.owed_tokens, ledger.owed_users) == ({}, {})
        assert (await _value(live, token_key(1)), await _value(live, user_key(7))) == (50, 950)
    finally:
        await live.aclose()
        await dead.aclose()


async def test_missing_counter_is_never_created_by_a_node(redis_url: str) -> None:
    client = await _client(redis_url)
    try:
        await client.set(user_key(7), 1000)
        ledger = RedisLedger(client)
        ledger.token_remain.offsets, ledger.user_quota.offsets = {1: 100}, {7: 1000}
        await ledger.reserve(1, 7, True, 30)  # token counter missing: local, owed
        assert await client.get(token_key(1)) is None
        assert await _value(client, user_key(7)) == 1000
        assert (ledger.owed_tokens, ledger.owed_users) == ({1: 30}, {7: 30})
        await ledger.replay()  # the user side lands; the token side waits for the master's seed
        assert await _value(client, user_key(7)) == 970 and await client.get(token_key(1)) is None
        assert (ledger.owed_tokens, ledger.owed_users) == ({1: 30}, {})
    finally:
        await client.aclose()


def _snapshot(tokens: dict[int, int], users: dict[int, int]):  # type: ignore[no-untyped-def]
    user_rows = [
        {"id": i, "username": f"u{i}", "quota": q, "used_quota": 0, "status": 1, "role": 1, "group": "default", "request_count": 0}
        for i, q in users.items()
    ]
    token_rows = [
        {
            "id": i,
            "key": f"k{i}",
            "user_id": 7,
            "name": "t",
            "status": 1,
            "remain_quota": r,
            "used_quota": 0,
            "unlimited_quota": False,
            "expired_time": -1,
            "models": None,
            "subnet": None,
        }
        for i, r in tokens.items()
    ]
    return build_snapshot(1, user_rows, token_rows, [], {})


async def test_master_seeds_missing_counters_and_shifts_admin_changes(redis_url: str) -> None:
    client = await _client(redis_url)
    try:
        await client.set(token_key(1), 40)  # a live counter from before a master restart
        keeper = CounterKeeper(client)
        pending = DeltaBatch()
        pending.spend(2, 7, True, 15)  # spent on the master, not yet in the database
        keeper.observe(_snapshot({1: 100, 2: 200}, {7: 1000}))
        await keeper.sync(pending)
        assert await _value(client, token_key(1)) == 40  # SET NX: a live counter is kept
        assert (await _value(client, token_key(2)), await _value(client, user_key(7))) == (185, 985)
        assert await client.exists(MARKER)

        # A reservation of 30 is in flight on a node; a batch of 15 is committed; an admin sets
        # the token's remain_quota from 200 (185 after the batch) to 500: the counter moves by
        # the difference, the reservation stays counted.
        ledger = RedisLedger(client)
        await ledger.reserve(2, 7, True, 30)
        keeper.note_applied(pending)
        keeper.observe(_snapshot({1: 100, 2: 500, 3: 70}, {7: 985}))
        await keeper.sync(DeltaBatch())
        assert await _value(client, token_key(2)) == 500 - 30
        assert await _value(client, user_key(7)) == 985 - 30
        assert await _value(client, token_key(3)) == 70  # created while running: set outright

        # Redis loses its data: the marker is gone, so everything is seeded again.
        await client.flushdb()
        assert await keeper.check()
        await keeper.sync(DeltaBatch())
        assert (await _value(client, token_key(2)), await _value(client, token_key(3))) == (500, 70)
        assert not await keeper.check()
    finally:
        await client.aclose()
