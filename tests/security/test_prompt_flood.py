"""Prompt floods (issue 12 item 6): an 8 MB prompt stalled a node, /healthz included, for 6.5 s, and a
token with 5 quota could do it for free because the quota check came after the count.

Now a prompt over MAX_PROMPT_BYTES is refused, a prompt its token or user cannot afford even at a
lower bound of its count is refused without being counted, and a large prompt is counted off the
event loop: /healthz answers while the count runs. No timing is asserted: the count is held (in the
tokenizer, wherever it runs) until /healthz has answered; on the event loop that can never happen,
so the count gives up after a deadlock breaker and records that it was not released."""

from __future__ import annotations

import asyncio
import base64
import threading
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from shared.billing import tokenizer
from shared.relay import modes, prompt
from tests.support.relay_kit import error_of, relay_world

EIGHT_MB = 8_000_000
DEADLOCK_BREAKER = 30.0  # seconds; only reached when /healthz cannot answer during the count


def record_counts(monkeypatch: Any) -> list[int]:
    """Sizes of every text the tokenizer counts."""
    sizes: list[int] = []
    original = tokenizer.count_text

    def counting(text: str, model: str, approximate: bool = False) -> int:
        sizes.append(len(text))
        return original(text, model, approximate)

    monkeypatch.setattr(tokenizer, "count_text", counting)
    return sizes


async def test_huge_prompt_from_an_empty_token_is_refused_before_counting(sqlite_database, fake_upstream, monkeypatch) -> None:
    async with relay_world(sqlite_database, fake_upstream) as w:
        await w.channel(models="gpt-3.5-turbo,gpt-3.5-turbo-instruct")
        client, _ = await w.user("mallory", quota=10_000_000)
        poor_token = await w.token(client, unlimited_quota=False, remain_quota=5)
        poor_user, _ = await w.user("eve", quota=5)
        poor_user_token = await w.token(poor_user)
        counted = record_counts(monkeypatch)
        flood = [{"role": "user", "content": "a" * EIGHT_MB}]

        resp = await w.chat(poor_token, messages=flood)
        assert resp.status_code == 403, resp.text
        assert (error_of(resp)["code"], error_of(resp)["message"].split(" (")[0]) == ("pre_consume_token_quota_failed", "令牌额度不足")
        resp = await w.chat(poor_user_token, messages=flood)
        assert resp.status_code == 403, resp.text
        assert error_of(resp)["code"] == "insufficient_user_quota"
        resp = await w.root.post(
            "/v1/completions",
            headers={"Authorization": f"Bearer sk-{poor_token['key']}"},
            json={"model": "gpt-3.5-turbo-instruct", "prompt": "b" * EIGHT_MB},
        )
        assert resp.status_code == 403, resp.text

        assert max(counted, default=0) < 1000, "the 8 MB prompt was counted before the quota check"
        assert fake_upstream.requests == []
        for c in (client, poor_user):
            await c.aclose()


async def test_prompt_over_the_cap_gets_413(sqlite_database, fake_upstream, monkeypatch) -> None:
    async with relay_world(sqlite_database, fake_upstream, {"MAX_PROMPT_BYTES": "4096"}) as w:
        await w.channel()
        token = await w.token()
        counted = record_counts(monkeypatch)
        resp = await w.chat(token, messages=[{"role": "user", "content": "é" * 2049}])  # 4098 bytes
        assert resp.status_code == 413, resp.text
        err = error_of(resp)
        assert (err["type"], err["code"]) == ("invalid_request_error", "prompt_too_large")
        assert err["message"].startswith("prompt is larger than 4096 bytes")
        assert counted == [] and fake_upstream.requests == []
        resp = await w.chat(token, messages=[{"role": "user", "content": "é" * 2000}])
        assert resp.status_code == 200, resp.text


async def test_counting_a_big_prompt_leaves_healthz_answering(sqlite_database, fake_upstream, monkeypatch) -> None:
    async with relay_world(sqlite_database, fake_upstream) as w:
        await w.channel()
        token = await w.token()
        big = "the quick brown fox jumps over the lazy dog " * 5000  # 220 KB: counted in the pool
        started, healthz_answered = threading.Event(), threading.Event()
        released: list[bool] = []
        original = tokenizer.count_text

        def held(text: str, model: str, approximate: bool = False) -> int:
            if len(text) == len(big):
                started.set()
                released.append(healthz_answered.wait(DEADLOCK_BREAKER))
            return original(text, model, approximate)

        monkeypatch.setattr(tokenizer, "count_text", held)
        chat = asyncio.ensure_future(w.chat(token, messages=[{"role": "user", "content": big}]))
        assert await asyncio.to_thread(started.wait, DEADLOCK_BREAKER)
        health = await w.root.get("/healthz")
        assert health.status_code == 200
        healthz_answered.set()
        resp = await chat
        assert resp.status_code == 200, resp.text
        assert released == [True], "/healthz could not answer while the prompt was being counted"
        assert resp.json()["usage"]["prompt_tokens"] > 0


def test_the_longest_token_fits_the_lower_bound() -> None:
    """The lower bound assumes no token is longer than MAX_TOKEN_BYTES bytes."""
    folder = tokenizer.tiktoken_cache_dir()
    tokenizer.prime_tiktoken_cache()
    for encoding in (tokenizer.CL100K, tokenizer.O200K):
        lines = (folder / tokenizer.tiktoken_cache_key(encoding)).read_bytes().splitlines()
        longest = max(len(base64.b64decode(line.split()[0])) for line in lines if line)
        assert longest == prompt.MAX_TOKEN_BYTES, encoding


texts = st.text(st.characters(codec="utf-8"), max_size=300)


@settings(max_examples=200, deadline=None)
@given(
    st.lists(
        st.fixed_dictionaries(
            {
                "role": st.sampled_from(["user", "system", "assistant"]),
                "content": st.one_of(texts, st.lists(st.fixed_dictionaries({"type": st.just("text"), "text": texts}), max_size=3)),
            },
            optional={"name": texts},
        ),
        max_size=4,
    ),
    st.sampled_from(["gpt-3.5-turbo", "gpt-3.5-turbo-0301", "gpt-4o"]),
    st.booleans(),
)
def test_the_lower_bound_never_exceeds_the_count(messages: list[dict[str, Any]], model: str, approximate: bool) -> None:
    """A refusal on the lower bound is one the count would have made too."""
    size = prompt.measure(modes.CHAT, {"messages": messages})
    assert size.lower_bound(approximate) <= tokenizer.count_messages_local(messages, model, approximate)
