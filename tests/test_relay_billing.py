"""Billing exact to the unit (docs/one-api-compat.md §6), model mapping and the channel system prompt (§5.6),
refunds, and reserve-then-settle under concurrency (README "How the relay bills").

The quota-exactness and the 100-parallel tests run on SQLite, PostgreSQL and MySQL."""

from __future__ import annotations

import asyncio

from shared.billing import tokenizer
from tests.support.relay_kit import CHAT, error_of, relay_world

# The fake reports this usage for every call in the exactness test.
PROMPT, COMPLETION = 123, 45
# Expected quota = ceil((prompt + completion × completion_ratio) × model_ratio × group_ratio):
#   gpt-3.5-turbo  (ratio 0.25,  completion 3, group default 1):   (123 + 45×3) × 0.25      = 258 × 0.25  = 64.5   -> 65
#   gpt-4o-mini    (ratio 0.075, completion 4, group default 1):   (123 + 45×4) × 0.075     = 303 × 0.075 = 22.725 -> 23
#   house-model    (ModelRatio option 2, completion 1 (unknown), group vip 1.5):
#                                                                  (123 + 45×1) × 2 × 1.5   = 168 × 3     = 504    -> 504
EXPECTED = {"gpt-3.5-turbo": 65, "gpt-4o-mini": 23, "house-model": 504}
CONTENT = {
    "gpt-3.5-turbo": "倍率：0.25 × 1.00 × 3.00",
    "gpt-4o-mini": "倍率：0.07 × 1.00 × 4.00",  # Go's %.2f of 0.075 (binary 0.07499…) is 0.07
    "house-model": "倍率：2.00 × 1.50 × 1.00",
}


async def test_quota_exact_to_the_unit(database, fake_upstream) -> None:
    async with relay_world(database, fake_upstream) as w:
        await w.ratio("ModelRatio", "house-model", 2)
        await w.ratio("GroupRatio", "vip", 1.5)
        channel = await w.channel(models="gpt-3.5-turbo,gpt-4o-mini,house-model", group="default,vip")
        alice, alice_id = await w.user("alice", quota=1_000_000)
        bob, bob_id = await w.user("bob", quota=1_000_000, group="vip")
        alice_token = await w.token(alice, name="alice-t", unlimited_quota=False, remain_quota=100_000)
        bob_token = await w.token(bob, name="bob-t", unlimited_quota=False, remain_quota=100_000)
        fake_upstream.configure(prompt_tokens=PROMPT, completion_tokens=COMPLETION)

        for model in ("gpt-3.5-turbo", "gpt-4o-mini"):
            resp = await w.chat(alice_token, model=model)
            assert resp.status_code == 200, resp.text
            assert resp.json()["usage"]["prompt_tokens"] == PROMPT
        resp = await w.chat(bob_token, model="house-model")
        assert resp.status_code == 200, resp.text
        await w.flush()

        logs = await w.consume_logs()
        assert [(r["model_name"], r["quota"], r["prompt_tokens"], r["completion_tokens"]) for r in logs] == [
            (m, EXPECTED[m], PROMPT, COMPLETION) for m in ("gpt-3.5-turbo", "gpt-4o-mini", "house-model")
        ]
        assert [r["content"] for r in logs] == [CONTENT[r["model_name"]] for r in logs]
        assert [r["username"] for r in logs] == ["alice", "alice", "bob"]
        assert all(r["channel_id"] == channel and r["is_stream"] in (False, 0) for r in logs)

        alice_cost = EXPECTED["gpt-3.5-turbo"] + EXPECTED["gpt-4o-mini"]  # 88
        bob_cost = EXPECTED["house-model"]  # 504
        t = await w.token_row(alice_token["id"])
        assert (t["used_quota"], t["remain_quota"]) == (alice_cost, 100_000 - alice_cost)
        t = await w.token_row(bob_token["id"])
        assert (t["used_quota"], t["remain_quota"]) == (bob_cost, 100_000 - bob_cost)
        u = await w.user_row(alice_id)
        assert (u["quota"], u["used_quota"], u["request_count"]) == (1_000_000 - alice_cost, alice_cost, 2)
        u = await w.user_row(bob_id)
        assert (u["quota"], u["used_quota"], u["request_count"]) == (1_000_000 - bob_cost, bob_cost, 1)
        assert (await w.channel_row(channel))["used_quota"] == alice_cost + bob_cost  # 592
        await alice.aclose()
        await bob.aclose()


async def test_refund_on_failure(sqlite_database, fake_upstream) -> None:
    async with relay_world(sqlite_database, fake_upstream) as w:
        await w.channel(key="key-a")
        client, user_id = await w.user("carol", quota=500_000)
        token = await w.token(client, unlimited_quota=False, remain_quota=400_000)
        fake_upstream.behaviour_for_key("key-a", "500")
        for stream in (False, True):
            resp = await w.chat(token, stream=stream, max_tokens=100)
            assert resp.status_code == 500, resp.text
        fake_upstream.fail_next("/v1/chat/completions", "slow", delay=0.01)
        await w.flush()
        u = await w.user_row(user_id)
        assert (u["quota"], u["used_quota"], u["request_count"]) == (500_000, 0, 0)
        t = await w.token_row(token["id"])
        assert (t["remain_quota"], t["used_quota"]) == (400_000, 0)
        assert await w.consume_logs() == []
        assert w.engine.ledger.user_balance(user_id) == 500_000
        await client.aclose()


async def test_insufficient_user_quota(sqlite_database, fake_upstream) -> None:
    async with relay_world(sqlite_database, fake_upstream) as w:
        await w.channel()
        client, _ = await w.user("dave", quota=100)
        token = await w.token(client)
        resp = await w.chat(token, max_tokens=1000)  # (500 + prompt + 1000) × 0.25 > 100
        assert resp.status_code == 403
        err = error_of(resp)
        assert err["code"] == "insufficient_user_quota"
        assert err["message"].startswith("user quota is not enough (request id: ")
        assert fake_upstream.requests == []
        await client.aclose()


async def test_model_mapping_and_system_prompt(sqlite_database, fake_upstream) -> None:
    async with relay_world(sqlite_database, fake_upstream) as w:
        await w.channel(
            models="gpt-3.5-turbo",
            model_mapping='{"gpt-3.5-turbo": "gpt-4o-mini"}',
            system_prompt="You are a careful assistant.",
        )
        token = await w.token()
        fake_upstream.configure(prompt_tokens=PROMPT, completion_tokens=COMPLETION)

        # No system message: one is prepended.
        resp = await w.chat(token, model="gpt-3.5-turbo")
        assert resp.status_code == 200, resp.text
        sent = fake_upstream.last.json()
        assert sent["model"] == "gpt-4o-mini"
        assert sent["messages"] == [{"role": "system", "content": "You are a careful assistant."}, *CHAT]

        # A first system message: its content is replaced.
        messages = [{"role": "system", "content": "Be rude."}, *CHAT]
        resp = await w.chat(token, model="gpt-3.5-turbo", messages=messages)
        assert resp.status_code == 200
        sent = fake_upstream.last.json()
        assert sent["messages"] == [{"role": "system", "content": "You are a careful assistant."}, *CHAT]

        await w.flush()
        logs = await w.consume_logs()
        # Billed at the mapped model's ratios: ceil((123 + 45×4) × 0.075) = 23.
        assert [(r["model_name"], r["quota"], bool(r["system_prompt_reset"])) for r in logs] == [
            ("gpt-4o-mini", 23, True),
            ("gpt-4o-mini", 23, True),
        ]
        assert logs[0]["content"] == "倍率：0.07 × 1.00 × 4.00"


async def test_prompt_estimate_counts_the_system_prompt(sqlite_database, fake_upstream) -> None:
    """Without upstream usage the prompt is the gateway's estimate, counted after the system prompt
    was applied (docs/one-api-compat.md §5.6)."""
    async with relay_world(sqlite_database, fake_upstream) as w:
        prompt = "You are a careful assistant who answers in exactly one short sentence."
        await w.channel(models="gpt-3.5-turbo", system_prompt=prompt)
        token = await w.token()
        fake_upstream.fail_next("/v1/chat/completions", "no_usage")
        resp = await w.chat(token)
        assert resp.status_code == 200
        await w.flush()
        (row,) = await w.consume_logs()
        expected = await tokenizer.count_messages([{"role": "system", "content": prompt}, *CHAT], "gpt-3.5-turbo")
        assert row["prompt_tokens"] == expected


async def test_reserve_then_settle_100_parallel(database, fake_upstream) -> None:
    """A token that covers exactly 10 requests, 100 at once: 10 succeed, 90 are refused, and the
    quota spent is exactly 10 requests' cost."""
    async with relay_world(database, fake_upstream) as w:
        await w.option("PreConsumedQuota", "0")
        await w.ratio("ModelRatio", "flat-model", 1)  # completion ratio of an unknown model: 1
        await w.channel(models="flat-model")
        client, user_id = await w.user("erin", quota=1_000_000)
        estimate = await tokenizer.count_messages(CHAT, "flat-model")
        completion = 7
        cost = estimate + completion  # pre-consumed == settled: (0 + estimate + max_tokens) × 1
        fake_upstream.configure(prompt_tokens=estimate, completion_tokens=completion)
        token = await w.token(client, unlimited_quota=False, remain_quota=10 * cost)

        async def one() -> tuple[int, dict]:
            resp = await w.chat(token, model="flat-model", max_tokens=completion)
            return resp.status_code, resp.json()

        results = await asyncio.gather(*(one() for _ in range(100)))
        ok = [body for status, body in results if status == 200]
        refused = [(status, body) for status, body in results if status != 200]
        assert len(ok) == 10, [s for s, _ in results]
        for status, body in refused:
            err = body["error"]
            assert (status, err.get("code")) == (403, "pre_consume_token_quota_failed") or (
                status == 401 and "额度已用尽" in err["message"]
            ), (status, body)
        assert len(fake_upstream.requests) == 10

        await w.flush()
        t = await w.token_row(token["id"])
        assert (t["used_quota"], t["remain_quota"]) == (10 * cost, 0)
        u = await w.user_row(user_id)
        assert (u["quota"], u["used_quota"], u["request_count"]) == (1_000_000 - 10 * cost, 10 * cost, 10)
        logs = await w.consume_logs()
        assert len(logs) == 10 and sum(r["quota"] for r in logs) == 10 * cost
        served = fake_upstream.served_usage_total()
        assert served["prompt_tokens"] + served["completion_tokens"] == 10 * cost
        await client.aclose()
