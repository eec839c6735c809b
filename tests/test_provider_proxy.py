"""Proxy (type 43) as a channel type: it serves the /v1/oneapi/proxy/{id}/… route (forwarded verbatim
with the raw key, to any HTTP API: here the fake OpenAI server), and every other relay mode gets a
clear 404 naming that route instead of "not supported" — retried on the model's other channels."""

from __future__ import annotations

from tests.fake_upstream.state import Canned
from tests.support.relay_kit import error_of, relay_world

REPLY = Canned().reply_text


async def test_the_proxy_route_forwards_with_the_raw_key(sqlite_database, fake_upstream) -> None:
    async with relay_world(sqlite_database, fake_upstream) as w:
        channel = await w.channel(type=43, key="Bearer upstream-raw", models="gpt-3.5-turbo")
        token = await w.token()
        resp = await w.root.post(
            f"/v1/oneapi/proxy/{channel}/v1/chat/completions?trace=1",
            headers={"Authorization": f"Bearer sk-{token['key']}", "X-Custom": "kept"},
            json={"model": "gpt-3.5-turbo", "messages": [{"role": "user", "content": "hi"}]},
        )
        assert resp.status_code == 200, resp.text
        assert resp.json()["choices"][0]["message"]["content"] == REPLY
        sent = fake_upstream.last
        assert (sent.path, sent.query) == ("/v1/chat/completions", "trace=1")
        assert sent.headers["authorization"] == "Bearer upstream-raw" and sent.headers["x-custom"] == "kept"
        (row,) = await w.wait_for(w.consume_logs)
        assert (row["channel_id"], row["prompt_tokens"], row["completion_tokens"]) == (channel, 17, 11)


async def test_other_modes_get_a_clear_404(sqlite_database, fake_upstream) -> None:
    async with relay_world(sqlite_database, fake_upstream) as w:
        channel = await w.channel(type=43, name="proxy", models="gpt-3.5-turbo")
        token = await w.token()
        resp = await w.chat(token)
        assert resp.status_code == 404
        error = error_of(resp)
        assert error["message"].startswith(
            f"channel #{channel} is a Proxy channel: it relays only /v1/oneapi/proxy/{channel}/<path> "
            "(admin tokens), not /v1/chat/completions"
        )
        assert (error["type"], error["code"]) == ("invalid_request_error", "proxy_channel_only")
        assert "not supported" not in error["message"]
        assert fake_upstream.requests == [] and await w.consume_logs() == []
        assert (await w.channel_row(channel))["status"] == 1  # never a reason to disable it

        # Another channel for the same model serves the request on the retry.
        await w.option("RetryTimes", "1")
        await w.channel(name="openai", models="gpt-3.5-turbo", priority=-1)
        resp = await w.chat(token)
        assert resp.status_code == 200 and resp.json()["choices"][0]["message"]["content"] == REPLY


async def test_channel_test_says_the_same(sqlite_database, fake_upstream) -> None:
    async with relay_world(sqlite_database, fake_upstream) as w:
        channel = await w.channel(type=43, models="gpt-3.5-turbo")
        body = (await w.root.get(f"/api/channel/test/{channel}")).json()
        assert body["success"] is False
        assert body["message"].startswith(f"channel #{channel} is a Proxy channel")
        assert fake_upstream.requests == []
