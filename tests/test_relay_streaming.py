"""Streaming (docs/one-api-compat.md §5.9) and the README's stream billing rule: the client pays for the prompt
plus every completion token the gateway received, whichever way the stream ended. Also the
non-stream error paths of §5.5 (error JSON with HTTP 200)."""

from __future__ import annotations

import asyncio
import socket
from typing import Any

import httpx
import orjson
import uvicorn

from shared.billing import tokenizer
from tests.fake_upstream.state import Canned
from tests.support.relay_kit import CHAT, bearer, error_of, relay_world, sse_payloads

REPLY = Canned().reply_text
WORDS = Canned().words


def chunks(text: str) -> list[dict[str, Any]]:
    payloads = sse_payloads(text)
    assert payloads[-1] == "[DONE]", payloads[-3:]
    assert payloads.count("[DONE]") == 1
    return [orjson.loads(p) for p in payloads[:-1]]


def streamed_text(parsed: list[dict[str, Any]]) -> str:
    return "".join((c["choices"][0].get("delta") or {}).get("content") or "" for c in parsed if c.get("choices"))


async def test_stream_endings_are_billed(sqlite_database, fake_upstream) -> None:
    async with relay_world(sqlite_database, fake_upstream) as w:
        plain = await w.channel(name="plain", key="key-plain", models="gpt-3.5-turbo")
        mapped = await w.channel(
            name="mapped", key="key-mapped", models="gpt-4o-mini", model_mapping='{"gpt-4o-mini": "gpt-4o-mini-2024-07-18"}'
        )
        token = await w.token()
        estimate = await tokenizer.count_messages(CHAT, "gpt-3.5-turbo")
        full = tokenizer.count_text(REPLY, "gpt-3.5-turbo")

        # 1. Pass-through (no conversion): the body goes as sent, no include_usage is injected, the
        # stream ends with one [DONE], and the completion is counted with tiktoken.
        resp = await w.chat(token, stream=True)
        assert resp.status_code == 200
        assert resp.headers["content-type"].startswith("text/event-stream")
        parsed = chunks(resp.text)
        assert streamed_text(parsed) == REPLY
        sent = fake_upstream.last.json()
        assert "stream_options" not in sent

        # 2. Converted (model mapping): include_usage is injected and upstream usage wins.
        resp = await w.chat(token, model="gpt-4o-mini", stream=True)
        parsed = chunks(resp.text)
        assert fake_upstream.last.json()["stream_options"] == {"include_usage": True}
        assert fake_upstream.last.json()["model"] == "gpt-4o-mini-2024-07-18"
        assert parsed[-1]["usage"] == {"prompt_tokens": 17, "completion_tokens": 11, "total_tokens": 28}

        # 3. EOF without usage (converted, upstream ignores include_usage): tiktoken counts the text.
        fake_upstream.fail_next("/v1/chat/completions", "no_usage")
        resp = await w.chat(token, model="gpt-4o-mini", stream=True)
        assert streamed_text(chunks(resp.text)) == REPLY

        # 4. Upstream cut mid-stream after 3 events (role chunk + 2 words): the client still gets
        # [DONE]; billed prompt + the text received.
        fake_upstream.fail_next("/v1/chat/completions", "cut", after=3)
        resp = await w.chat(token, stream=True)
        assert resp.status_code == 200
        parsed = chunks(resp.text)
        assert streamed_text(parsed) == "".join(WORDS[:2])

        await w.flush()
        logs = await w.consume_logs()
        got = [(r["channel_id"], r["model_name"], r["prompt_tokens"], r["completion_tokens"], bool(r["is_stream"])) for r in logs]
        mini_estimate = await tokenizer.count_messages(CHAT, "gpt-4o-mini-2024-07-18")
        assert got == [
            (plain, "gpt-3.5-turbo", estimate, full, True),
            (mapped, "gpt-4o-mini-2024-07-18", 17, 11, True),
            (mapped, "gpt-4o-mini-2024-07-18", mini_estimate, tokenizer.count_text(REPLY, "gpt-4o-mini-2024-07-18"), True),
            (plain, "gpt-3.5-turbo", estimate, tokenizer.count_text("".join(WORDS[:2]), "gpt-3.5-turbo"), True),
        ]
        # quota of (1): ceil((estimate + full × 3) × 0.25)
        assert logs[0]["quota"] == -(-((estimate + full * 3) * 0.25) // 1)


async def test_enforce_include_usage_and_completions_stream(sqlite_database, fake_upstream) -> None:
    async with relay_world(sqlite_database, fake_upstream, {"ENFORCE_INCLUDE_USAGE": "true"}) as w:
        await w.channel()
        token = await w.token()
        resp = await w.chat(token, stream=True)
        parsed = chunks(resp.text)
        assert fake_upstream.last.json()["stream_options"] == {"include_usage": True}
        assert parsed[-1]["choices"] == [] and parsed[-1]["usage"]["total_tokens"] == 28

        resp = await w.root.post(
            "/v1/completions",
            headers=bearer(token),
            json={"model": "gpt-3.5-turbo", "prompt": "Once upon a time", "stream": True},
        )
        assert resp.status_code == 200
        payloads = sse_payloads(resp.text)
        assert payloads[-1] == "[DONE]"
        text = "".join(c["choices"][0]["text"] for c in map(orjson.loads, payloads[:-1]) if c["choices"])
        assert text == REPLY
        await w.flush()
        logs = await w.consume_logs()
        assert [(r["prompt_tokens"], r["completion_tokens"]) for r in logs] == [(17, 11), (17, 11)]


async def test_azure_keepalive_chunks_are_dropped(sqlite_database, fake_upstream) -> None:
    async with relay_world(sqlite_database, fake_upstream) as w:
        await w.channel(type=3, key="azure-key", other="2024-02-01", models="gpt-35-turbo,gpt-3.5-turbo")
        token = await w.token()
        resp = await w.chat(token, stream=True)
        assert resp.status_code == 200, resp.text
        parsed = chunks(resp.text)
        assert all(c.get("choices") or c.get("usage") for c in parsed), parsed[:2]
        assert streamed_text(parsed) == REPLY
        req = fake_upstream.last
        assert req.path == "/openai/deployments/gpt-35-turbo/chat/completions"
        assert req.query == "api-version=2024-02-01"
        assert req.headers["api-key"] == "azure-key"
        assert "authorization" not in req.headers


async def test_error_json_with_http_200(sqlite_database, fake_upstream) -> None:
    async with relay_world(sqlite_database, fake_upstream) as w:
        await w.option("RetryTimes", "2")
        await w.channel(name="a", key="key-a", priority=1)
        await w.channel(name="b", key="key-b")
        client, user_id = await w.user("frank", quota=200_000)
        token = await w.token(client)
        # A stream request answered with application/json: the error goes to the client with
        # HTTP 200, and 2xx is never retried.
        fake_upstream.behaviour_for_key("key-a", "error200")
        resp = await w.chat(token, stream=True)
        assert resp.status_code == 200
        err = error_of(resp)
        assert err["type"] == "server_error"
        assert err["message"].startswith("The engine is currently overloaded (fake).")
        assert [r.key for r in fake_upstream.requests] == ["key-a"]
        # The same for a non-stream request whose 200 body is an error.
        fake_upstream.reset()
        fake_upstream.behaviour_for_key("key-a", "error200")
        resp = await w.chat(token)
        assert resp.status_code == 200
        assert error_of(resp)["type"] == "server_error"
        assert [r.key for r in fake_upstream.requests] == ["key-a"]
        await w.flush()
        u = await w.user_row(user_id)
        assert (u["quota"], u["used_quota"], u["request_count"]) == (200_000, 0, 0)
        assert await w.consume_logs() == []
        await client.aclose()


async def test_relay_timeout_is_refunded(sqlite_database, fake_upstream) -> None:
    async with relay_world(sqlite_database, fake_upstream, {"RELAY_TIMEOUT": "1"}) as w:
        await w.channel()
        client, user_id = await w.user("gina", quota=200_000)
        token = await w.token(client)
        fake_upstream.fail_next("/v1/chat/completions", "slow", delay=3)
        resp = await w.chat(token, stream=True)
        assert resp.status_code == 500
        assert error_of(resp)["code"] == "do_request_failed"
        await w.flush()
        u = await w.user_row(user_id)
        assert (u["quota"], u["used_quota"]) == (200_000, 0)
        assert await w.consume_logs() == []
        await client.aclose()


def _free_socket() -> socket.socket:
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, 4096)  # inherited by accepted sockets: backpressure early
    sock.bind(("127.0.0.1", 0))
    sock.listen(64)
    return sock


async def test_client_disconnect_is_billed(sqlite_database, fake_upstream) -> None:
    """A real server and a real client that reads a few events and hangs up: the gateway stops and
    bills the prompt plus the completion it received (> 0, ≤ the whole answer)."""
    long_reply = " ".join(f"word{i}" for i in range(4000))
    async with relay_world(sqlite_database, fake_upstream) as w:
        await w.channel()
        token = await w.token()
        fake_upstream.configure(reply_text=long_reply)
        sock = _free_socket()
        server = uvicorn.Server(uvicorn.Config(w.app, lifespan="off", log_config=None, access_log=False))
        serving = asyncio.ensure_future(server.serve(sockets=[sock]))
        try:
            for _ in range(500):
                if server.started:
                    break
                await asyncio.sleep(0.01)
            port = sock.getsockname()[1]
            small = httpx.AsyncHTTPTransport(socket_options=[(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)])
            async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}", timeout=30, transport=small) as http:
                body = {"model": "gpt-3.5-turbo", "messages": CHAT, "stream": True}
                async with http.stream("POST", "/v1/chat/completions", headers=bearer(token), json=body) as resp:
                    assert resp.status_code == 200
                    seen = 0
                    async for line in resp.aiter_lines():
                        if line.startswith("data: "):
                            seen += 1
                        if seen >= 4:
                            break
            logs = await w.wait_for(w.consume_logs)
        finally:
            server.should_exit = True
            await serving
            sock.close()
        (row,) = logs
        full = tokenizer.count_text(long_reply, "gpt-3.5-turbo")
        assert 0 < row["completion_tokens"] <= full
        assert row["prompt_tokens"] == await tokenizer.count_messages(CHAT, "gpt-3.5-turbo")
        assert row["quota"] > 0
        # The gateway stopped early: it did not read the whole answer.
        assert row["completion_tokens"] < full, (row["completion_tokens"], full)
