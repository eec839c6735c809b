"""Quota overspend (issue 12 item 8): five parallel requests with long answers spent 7,515 from a
635-quota token, because the reservation is an estimate. With QUOTA_STRICT=true (the default) the
balance is a hard cap (shared/relay/strict.py): a request without max_tokens is sent with the
max_tokens its balance covers, a stream is ended with finish_reason "length" once its cost reaches
what the balance covers, and nothing is charged beyond it. QUOTA_STRICT=false keeps One API's way."""

from __future__ import annotations

import asyncio
from typing import Any

import orjson
import pytest

from shared.relay.redis_ledger import RedisLedger, token_key
from tests.support.relay_kit import relay_world, sse_payloads
from tests.support.services import fresh_redis_db, redis_url

BALANCE = 635
LONG = " ".join(["word"] * 3000)
# The fake reports this usage for every answer: cost = ceil((20 + 3000 × 3) × 0.25) = 2255 on gpt-3.5-turbo.
PROMPT, COMPLETION, COST = 20, 3000, 2255


@pytest.fixture(params=["local", "redis"])
def ledger_env(request: pytest.FixtureRequest) -> dict[str, str]:
    """The node's own ledger, or the fleet's Redis counters (reservations grown by the Lua script)."""
    return {"REDIS_CONN_STRING": redis_url(fresh_redis_db())} if request.param == "redis" else {}


async def redis_counter(w: Any, token: dict[str, Any]) -> int | None:
    ledger = w.engine.ledger
    if not isinstance(ledger, RedisLedger):
        return None
    return int(await ledger.redis.get(token_key(token["id"])))


async def five_at_once(w: Any, token: dict[str, Any], stream: bool) -> list[Any]:
    return await asyncio.gather(*(w.chat(token, stream=stream) for _ in range(5)))


async def spent(w: Any, token: dict[str, Any], user_id: int) -> tuple[int, int, int, int]:
    await w.flush()
    t, u = await w.token_row(token["id"]), await w.user_row(user_id)
    logged = sum(r["quota"] for r in await w.consume_logs())
    return t["used_quota"], t["remain_quota"], u["used_quota"], logged


async def test_parallel_long_answers_never_spend_beyond_the_token(sqlite_database, fake_upstream, ledger_env) -> None:
    async with relay_world(sqlite_database, fake_upstream, ledger_env) as w:
        await w.channel()
        client, user_id = await w.user("frank", quota=1_000_000)
        fake_upstream.configure(reply_text=LONG, prompt_tokens=PROMPT, completion_tokens=COMPLETION)
        token = await w.token(client, unlimited_quota=False, remain_quota=BALANCE)

        answers = await five_at_once(w, token, stream=False)
        assert any(r.status_code == 200 for r in answers), [r.text for r in answers]
        assert all(r.status_code in (200, 401, 403) for r in answers), [r.text for r in answers]
        used, remain, user_used, logged = await spent(w, token, user_id)
        assert remain >= 0 and used <= BALANCE, (used, remain)
        assert used == user_used == logged
        assert await redis_counter(w, token) in (None, remain)
        # Each request went out with the max_tokens its balance covered, never without one.
        sent = [r.json() for r in fake_upstream.requests]
        assert sent and all(0 < body["max_tokens"] < 4096 for body in sent), [b.get("max_tokens") for b in sent]
        await client.aclose()


async def test_parallel_streams_are_cut_at_the_balance(sqlite_database, fake_upstream, ledger_env) -> None:
    async with relay_world(sqlite_database, fake_upstream, ledger_env) as w:
        await w.channel()
        client, user_id = await w.user("grace", quota=1_000_000)
        fake_upstream.fail_next("/v1/chat/completions", "no_usage", count=5)  # cost from the text received
        fake_upstream.configure(reply_text=LONG, prompt_tokens=PROMPT, completion_tokens=COMPLETION)
        token = await w.token(client, unlimited_quota=False, remain_quota=BALANCE)

        answers = await five_at_once(w, token, stream=True)
        streams = [sse_payloads(r.text) for r in answers if r.status_code == 200]
        assert streams, [r.text for r in answers]
        for payloads in streams:
            assert payloads[-1] == "[DONE]"
            last = orjson.loads(payloads[-2])
            assert last["object"] == "chat.completion.chunk"
            assert last["choices"][0]["finish_reason"] == "length", payloads[-3:]
            received = "".join(
                orjson.loads(p)["choices"][0]["delta"].get("content", "") for p in payloads[:-1] if orjson.loads(p)["choices"]
            )
            assert len(received) < len(LONG)
        used, remain, user_used, logged = await spent(w, token, user_id)
        assert remain >= 0 and used <= BALANCE, (used, remain)
        assert used == user_used == logged
        assert await redis_counter(w, token) in (None, remain)
        await client.aclose()


async def test_a_user_balance_caps_an_unlimited_token_stream(sqlite_database, fake_upstream) -> None:
    async with relay_world(sqlite_database, fake_upstream) as w:
        await w.channel()
        client, user_id = await w.user("heidi", quota=BALANCE)
        fake_upstream.fail_next("/v1/chat/completions", "no_usage")
        fake_upstream.configure(reply_text=LONG, prompt_tokens=PROMPT, completion_tokens=COMPLETION)
        token = await w.token(client)  # unlimited: the user's quota is the only cap
        resp = await w.chat(token, stream=True, max_tokens=None)
        assert resp.status_code == 200
        assert orjson.loads(sse_payloads(resp.text)[-2])["choices"][0]["finish_reason"] == "length"
        await w.flush()
        u = await w.user_row(user_id)
        assert u["quota"] >= 0 and u["used_quota"] <= BALANCE, u
        await client.aclose()


async def test_without_strict_the_reservation_is_an_estimate(sqlite_database, fake_upstream) -> None:
    """QUOTA_STRICT=false is One API's way: each answer is charged in full after a reservation of
    int((PreConsumedQuota + prompt + max_tokens) × ratio), so the balance can go below zero by the
    answers' cost beyond their reservations."""
    async with relay_world(sqlite_database, fake_upstream, {"QUOTA_STRICT": "false"}) as w:
        await w.channel()
        client, user_id = await w.user("ivan", quota=1_000_000)
        fake_upstream.configure(reply_text=LONG, prompt_tokens=PROMPT, completion_tokens=COMPLETION)
        token = await w.token(client, unlimited_quota=False, remain_quota=BALANCE)
        answers = await five_at_once(w, token, stream=False)
        served = sum(r.status_code == 200 for r in answers)
        used, remain, _, _ = await spent(w, token, user_id)
        assert served >= 2 and used == served * COST and remain == BALANCE - used < 0
        assert all("max_tokens" not in r.json() for r in fake_upstream.requests)
        await client.aclose()
