"""POST /v1/messages and /v1/messages/count_tokens with the official `anthropic` SDK, in-process on
a master: converted to an OpenAI-format channel and passed through to an Anthropic channel. Text,
streams (every event sequence checked), tool-use round trips, images, thinking, errors in
Anthropic's shape, token counting, and billing and log rows equal to /v1/chat/completions."""

from __future__ import annotations

import base64
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import anthropic
import httpx
import httpx2

from tests.fake_upstream.state import Canned
from tests.support.anthropic_events import check_sequence, frames, stop_and_usage
from tests.support.relay_kit import World, relay_world

REPLY = Canned().reply_text
TOOLS = [
    {
        "name": "search",
        "description": "Search the code base",
        "input_schema": {"type": "object", "properties": {"query": {"type": "string"}}, "required": ["query"]},
    }
]
PNG = base64.b64encode(b"\x89PNG\r\n\x1a\nfake-image").decode()


@asynccontextmanager
async def sdk_for(w: World, key: str, **options: Any) -> AsyncIterator[tuple[anthropic.AsyncAnthropic, httpx.AsyncClient]]:
    # The SDK brings its own HTTP library (httpx2); the raw checks use httpx.
    async with (
        httpx2.AsyncClient(
            transport=httpx2.ASGITransport(app=w.app, client=("127.0.0.1", 40003)), base_url="http://testserver"
        ) as sdk_http,
        httpx.AsyncClient(transport=httpx.ASGITransport(app=w.app, client=("127.0.0.1", 40003)), base_url="http://testserver") as http,
    ):
        yield anthropic.AsyncAnthropic(api_key=key, base_url="http://testserver", http_client=sdk_http, max_retries=0, **options), http


async def raw_stream(http: httpx.AsyncClient, key: str, body: dict[str, Any]) -> list[tuple[str, dict[str, Any]]]:
    resp = await http.post("/v1/messages", headers={"x-api-key": key, "anthropic-version": "2023-06-01"}, json={**body, "stream": True})
    assert resp.status_code == 200, resp.text
    assert resp.headers["content-type"].startswith("text/event-stream")
    return frames(resp.text)


async def test_converted_to_an_openai_channel(sqlite_database, fake_upstream) -> None:
    async with relay_world(sqlite_database, fake_upstream) as w:
        await w.channel(name="openai", models="gpt-4o-mini")
        token = await w.token()
        key = f"sk-{token['key']}"
        async with sdk_for(w, key) as (sdk, http):
            # Text, with a system prompt in blocks and stop sequences.
            answer = await sdk.messages.create(
                model="gpt-4o-mini",
                max_tokens=256,
                system=[{"type": "text", "text": "You are terse."}, {"type": "text", "text": "Answer in English."}],
                messages=[{"role": "user", "content": "Hello"}],
                stop_sequences=["END"],
                extra_body={"temperature": 0.2},
            )
            assert answer.content[0].type == "text" and answer.content[0].text == REPLY
            assert answer.stop_reason == "end_turn" and answer.role == "assistant"
            assert answer.usage.input_tokens == 17 and answer.usage.output_tokens == 11
            sent = fake_upstream.last.json()
            assert fake_upstream.last.path == "/v1/chat/completions"
            assert sent["messages"] == [
                {"role": "system", "content": "You are terse.\nAnswer in English."},
                {"role": "user", "content": "Hello"},
            ]
            assert sent["stop"] == ["END"] and sent["max_tokens"] == 256 and sent["temperature"] == 0.2

            # Stream through the SDK's accumulator, then the raw event sequence.
            async with sdk.messages.stream(model="gpt-4o-mini", max_tokens=64, messages=[{"role": "user", "content": "Hi"}]) as stream:
                text = "".join([piece async for piece in stream.text_stream])
                final = await stream.get_final_message()
            assert text == REPLY and final.stop_reason == "end_turn" and final.usage.output_tokens == 11
            events = await raw_stream(
                http, key, {"model": "gpt-4o-mini", "max_tokens": 64, "messages": [{"role": "user", "content": "Hi"}]}
            )
            blocks = check_sequence(events)
            assert blocks == [{"type": "text", "text": REPLY}]
            assert stop_and_usage(events) == (
                "end_turn",
                {"input_tokens": 17, "output_tokens": 11, "cache_creation_input_tokens": 0, "cache_read_input_tokens": 0},
            )
            assert fake_upstream.last.json()["stream_options"] == {"include_usage": True}

            # Tool use round trip: tool_use out, tool_result back in, text at the end.
            first = await sdk.messages.create(
                model="gpt-4o-mini", max_tokens=64, tools=TOOLS, messages=[{"role": "user", "content": "Find foo"}]
            )
            assert first.stop_reason == "tool_use"
            use = first.content[0]
            assert use.type == "tool_use" and use.name == "search" and use.input == {"query": "fake"} and use.id == "call_fake_0"
            assert fake_upstream.last.json()["tools"] == [
                {
                    "type": "function",
                    "function": {"name": "search", "parameters": TOOLS[0]["input_schema"], "description": "Search the code base"},
                }
            ]
            turns: list[Any] = [
                {"role": "user", "content": "Find foo"},
                {"role": "assistant", "content": [use.model_dump()]},
                {"role": "user", "content": [{"type": "tool_result", "tool_use_id": use.id, "content": "foo is in bar.py"}]},
            ]
            second = await sdk.messages.create(model="gpt-4o-mini", max_tokens=64, tools=TOOLS, messages=turns)
            assert second.content[0].text == REPLY and second.stop_reason == "end_turn"
            assert fake_upstream.last.json()["messages"][1:] == [
                {
                    "role": "assistant",
                    "content": None,
                    "tool_calls": [
                        {"id": "call_fake_0", "type": "function", "function": {"name": "search", "arguments": '{"query":"fake"}'}}
                    ],
                },
                {"role": "tool", "tool_call_id": "call_fake_0", "content": "foo is in bar.py"},
            ]
            events = await raw_stream(
                http, key, {"model": "gpt-4o-mini", "max_tokens": 64, "tools": TOOLS, "messages": [{"role": "user", "content": "Find foo"}]}
            )
            assert check_sequence(events) == [{"type": "tool_use", "id": "call_fake_0", "name": "search", "input": {"query": "fake"}}]
            assert stop_and_usage(events)[0] == "tool_use"

            # Image input: a base64 block becomes an image_url data URL.
            image = await sdk.messages.create(
                model="gpt-4o-mini",
                max_tokens=64,
                messages=[
                    {
                        "role": "user",
                        "content": [
                            {"type": "image", "source": {"type": "base64", "media_type": "image/png", "data": PNG}},
                            {"type": "text", "text": "What is this?"},
                        ],
                    }
                ],
            )
            assert image.content[0].text == REPLY
            assert fake_upstream.last.json()["messages"][0]["content"] == [
                {"type": "image_url", "image_url": {"url": f"data:image/png;base64,{PNG}"}},
                {"type": "text", "text": "What is this?"},
            ]

            # Token counting: the estimate the reservation of the same request uses.
            counted = await sdk.messages.count_tokens(model="gpt-4o-mini", messages=[{"role": "user", "content": "Hello"}])
            assert counted.input_tokens > 0
            assert len(fake_upstream.requests) == 7  # counting never reaches upstream


async def test_reasoning_comes_back_as_thinking(sqlite_database, fake_upstream) -> None:
    fake_upstream.configure(reasoning_text="Let me think about it.")
    async with relay_world(sqlite_database, fake_upstream) as w:
        await w.channel(name="openai", models="gpt-4o-mini")
        key = f"sk-{(await w.token())['key']}"
        async with sdk_for(w, key) as (sdk, http):
            body = {
                "model": "gpt-4o-mini",
                "max_tokens": 2048,
                "thinking": {"type": "enabled", "budget_tokens": 1024},
                "messages": [{"role": "user", "content": "Hi"}],
            }
            answer = await sdk.messages.create(**body)
            assert [b.type for b in answer.content] == ["thinking", "text"]
            assert answer.content[0].thinking == "Let me think about it."
            assert "thinking" not in fake_upstream.last.json()
            blocks = check_sequence(await raw_stream(http, key, body))
            assert blocks == [{"type": "thinking", "thinking": "Let me think about it.", "signature": ""}, {"type": "text", "text": REPLY}]


CACHED_SYSTEM = [{"type": "text", "text": "You are a coding agent.", "cache_control": {"type": "ephemeral"}}]


async def test_passed_through_to_an_anthropic_channel(sqlite_database, fake_upstream) -> None:
    async with relay_world(sqlite_database, fake_upstream) as w:
        await w.channel(name="claude", type=14, key="claude-key", models="claude-sonnet-4-5")
        key = f"sk-{(await w.token())['key']}"
        beta = {"anthropic-beta": "prompt-caching-2024-07-31"}
        async with sdk_for(w, key, default_headers=beta) as (sdk, http):
            body: dict[str, Any] = {
                "model": "claude-sonnet-4-5",
                "max_tokens": 128,
                "system": CACHED_SYSTEM,
                "messages": [{"role": "user", "content": [{"type": "text", "text": "Hello", "cache_control": {"type": "ephemeral"}}]}],
                "metadata": {"user_id": "user-1"},
            }
            answer = await sdk.messages.create(**body)
            assert answer.id == "msg_fake" and answer.content[0].text == REPLY
            sent = fake_upstream.last
            assert sent.path == "/v1/messages" and sent.key == "claude-key"
            assert sent.json() == body  # fields the gateway does not know (cache_control) kept
            assert sent.headers["anthropic-beta"] == "prompt-caching-2024-07-31"
            assert sent.headers["anthropic-version"] == sdk.default_headers["anthropic-version"]  # the client's

            # The stream is the upstream's, byte for byte.
            relayed = await http.post(
                "/v1/messages", headers={"x-api-key": key, "anthropic-version": "2023-06-01"}, json={**body, "stream": True}
            )
            assert fake_upstream.last.headers["anthropic-version"] == "2023-06-01"
            async with httpx.AsyncClient() as direct:
                upstream = await direct.post(
                    f"{fake_upstream.url}/v1/messages", headers={"x-api-key": "claude-key"}, json={**body, "stream": True}
                )
            assert relayed.text == upstream.text
            assert check_sequence(frames(relayed.text)) == [{"type": "text", "text": REPLY}]
            async with sdk.messages.stream(**body) as stream:
                assert "".join([t async for t in stream.text_stream]) == REPLY

            # Tool use round trip, passed through both ways.
            first = await sdk.messages.create(**{**body, "tools": TOOLS})
            use = first.content[0]
            assert first.stop_reason == "tool_use" and use.type == "tool_use" and use.input == {"query": "fake"}
            turns = [
                *body["messages"],
                {"role": "assistant", "content": [use.model_dump()]},
                {
                    "role": "user",
                    "content": [{"type": "tool_result", "tool_use_id": use.id, "content": [{"type": "text", "text": "found"}]}],
                },
            ]
            second = await sdk.messages.create(**{**body, "tools": TOOLS, "messages": turns})
            assert second.content[0].text == REPLY and fake_upstream.last.json()["messages"] == turns

            # Images go as they are (Anthropic fetches URL images itself).
            image = {"type": "image", "source": {"type": "url", "url": "https://example.com/cat.png"}}
            await sdk.messages.create(**{**body, "messages": [{"role": "user", "content": [image, {"type": "text", "text": "cat?"}]}]})
            assert fake_upstream.last.json()["messages"][0]["content"][0] == image

            # Token counting never leaves the gateway.
            count = len(fake_upstream.requests)
            counted = await sdk.messages.count_tokens(model="claude-sonnet-4-5", system=CACHED_SYSTEM, messages=body["messages"])
            assert counted.input_tokens > 0 and len(fake_upstream.requests) == count


async def test_thinking_and_cache_usage_passed_through_and_billed(sqlite_database, fake_upstream) -> None:
    fake_upstream.configure(reasoning_text="Thinking hard.", cache_write_tokens=100, cache_read_tokens=1000)
    async with relay_world(sqlite_database, fake_upstream) as w:
        channel = await w.channel(name="claude", type=14, key="claude-key", models="claude-sonnet-4-5")
        await w.ratio("ModelRatio", "claude-sonnet-4-5", 2.0)
        await w.ratio("CompletionRatio", "claude-sonnet-4-5", 5.0)
        key = f"sk-{(await w.token())['key']}"
        async with sdk_for(w, key) as (sdk, http):
            body = {
                "model": "claude-sonnet-4-5",
                "max_tokens": 2048,
                "thinking": {"type": "enabled", "budget_tokens": 1024},
                "system": CACHED_SYSTEM,
                "messages": [{"role": "user", "content": "Hi"}],
            }
            answer = await sdk.messages.create(**body)
            assert [b.type for b in answer.content] == ["thinking", "text"] and answer.content[0].signature == "fake-signature"
            assert answer.usage.cache_creation_input_tokens == 100 and answer.usage.cache_read_input_tokens == 1000
            assert fake_upstream.last.json()["thinking"] == body["thinking"]
            events = await raw_stream(http, key, body)
            assert check_sequence(events)[0] == {"type": "thinking", "thinking": "Thinking hard.", "signature": "fake-signature"}
            bad = await w.root.put("/api/option/", json={"key": "AnthropicCacheReadRatio", "value": "cheap"})
            assert not bad.json()["success"]
            await w.option("AnthropicCacheReadRatio", "0.5")
            await sdk.messages.create(**body)
        rows = await w.wait_for(lambda: _rows(w, 3))
        # (17 uncached + 100 written × 1.25 + 1000 read × 0.1 + 11 out × 5) × 2
        assert [r["quota"] for r in rows] == [594, 594, 1394]  # the last with reads at 0.5
        assert all(r["prompt_tokens"] == 1117 and r["completion_tokens"] == 11 and r["channel_id"] == channel for r in rows)
        assert rows[0]["content"].endswith("缓存写入 100 × 1.25，缓存读取 1000 × 0.10")
        assert rows[2]["content"].endswith("缓存写入 100 × 1.25，缓存读取 1000 × 0.50")


async def _rows(w: World, count: int) -> list[dict[str, Any]] | None:
    rows = await w.consume_logs()
    return rows if len(rows) >= count else None


def anthropic_error(resp: httpx.Response, status: int, kind: str) -> str:
    assert resp.status_code == status, resp.text
    body = resp.json()
    assert set(body) == {"type", "error"} and body["type"] == "error" and body["error"]["type"] == kind, body
    return str(body["error"]["message"])


async def test_errors_in_anthropic_shape(sqlite_database, fake_upstream) -> None:
    async with relay_world(sqlite_database, fake_upstream) as w:
        await w.channel(name="openai", models="gpt-4o-mini")
        await w.channel(name="claude", type=14, key="claude-key", models="claude-sonnet-4-5")
        key = f"sk-{(await w.token())['key']}"
        limited = f"sk-{(await w.token(name='limited', models='gpt-4o-mini'))['key']}"
        hello = {"max_tokens": 16, "messages": [{"role": "user", "content": "Hello"}]}
        async with sdk_for(w, "sk-not-a-token") as (sdk, http):
            try:
                await sdk.messages.create(model="gpt-4o-mini", **hello)
            except anthropic.AuthenticationError as exc:
                assert exc.status_code == 401 and exc.body["error"]["type"] == "authentication_error"
            else:
                raise AssertionError("an unknown key was served")
            anthropic_error(await http.post("/v1/messages", json={"model": "gpt-4o-mini", **hello}), 401, "authentication_error")
            # Authorization: Bearer works as well as x-api-key (Claude Code's ANTHROPIC_AUTH_TOKEN).
            resp = await http.post("/v1/messages", headers={"authorization": f"Bearer {key}"}, json={"model": "gpt-4o-mini", **hello})
            assert resp.status_code == 200 and resp.json()["type"] == "message"
            headers = {"x-api-key": key}
            anthropic_error(await http.post("/v1/messages", headers=headers, content=b"{not json"), 400, "invalid_request_error")
            assert "max_tokens" in anthropic_error(
                await http.post("/v1/messages", headers=headers, json={"model": "gpt-4o-mini", "messages": hello["messages"]}),
                400,
                "invalid_request_error",
            )
            bad_block = {"model": "gpt-4o-mini", "max_tokens": 16, "messages": [{"role": "user", "content": [{"type": "video"}]}]}
            anthropic_error(await http.post("/v1/messages", headers=headers, json=bad_block), 400, "invalid_request_error")
            anthropic_error(await http.post("/v1/messages", headers=headers, json={"model": "nope", **hello}), 503, "api_error")
            anthropic_error(
                await http.post("/v1/messages/count_tokens", headers=headers, json={"messages": []}), 400, "invalid_request_error"
            )
        async with sdk_for(w, limited) as (sdk, http):
            try:
                await sdk.messages.create(model="claude-sonnet-4-5", **hello)
            except anthropic.PermissionDeniedError as exc:
                assert "claude-sonnet-4-5" in exc.body["error"]["message"]
            else:
                raise AssertionError("a model outside the allow-list was served")
            anthropic_error(
                await http.post("/v1/messages/count_tokens", headers={"x-api-key": limited}, json={"model": "claude-sonnet-4-5", **hello}),
                403,
                "permission_error",
            )
        async with sdk_for(w, key) as (sdk, http):
            fake_upstream.fail_next("/v1/chat/completions", "500")
            try:
                await sdk.messages.create(model="gpt-4o-mini", **hello)
            except anthropic.InternalServerError as exc:
                assert exc.body["error"]["type"] == "api_error"
            else:
                raise AssertionError("an upstream 500 was not passed on")
            fake_upstream.fail_next("/v1/messages", "400")
            try:
                await sdk.messages.create(model="claude-sonnet-4-5", **hello)
            except anthropic.BadRequestError as exc:
                assert "messages: field required" in exc.body["error"]["message"]
            else:
                raise AssertionError("an upstream 400 was not passed on")
            # Mid-stream, an upstream that breaks off ends the answer with Anthropic's error event,
            # which the SDK raises; converted and passed through alike.
            for model, path in (("gpt-4o-mini", "/v1/chat/completions"), ("claude-sonnet-4-5", "/v1/messages")):
                fake_upstream.fail_next(path, "cut", after=4)
                events = await raw_stream(http, key, {"model": model, **hello})
                assert events[0][0] == "message_start" and events[-1][0] == "error", events
                assert events[-1][1]["error"]["type"] == "api_error"
                fake_upstream.fail_next(path, "cut", after=4)
                try:
                    async with sdk.messages.stream(model=model, **hello) as stream:
                        await stream.get_final_message()
                except anthropic.APIStatusError as exc:
                    assert "broke off" in str(exc)
                else:
                    raise AssertionError("a broken stream ended as if complete")


async def test_billing_and_log_rows_equal_chat_completions(sqlite_database, fake_upstream) -> None:
    """The same conversation through both doors, with upstream usage and without (counted)."""
    async with relay_world(sqlite_database, fake_upstream) as w:
        await w.channel(name="openai", models="gpt-4o-mini")
        await w.channel(name="claude", type=14, key="claude-key", models="claude-sonnet-4-5")
        token = await w.token()
        key = f"sk-{token['key']}"
        chat_messages = [{"role": "system", "content": "Be brief."}, {"role": "user", "content": "Hello there"}]
        async with sdk_for(w, key) as (sdk, http):
            expected = 0
            for model in ("gpt-4o-mini", "claude-sonnet-4-5"):
                path = "/v1/chat/completions" if model == "gpt-4o-mini" else "/v1/messages"
                for stream in (False, True):
                    for usage in (True, False):
                        for door in ("chat", "messages"):
                            if not usage:
                                fake_upstream.fail_next(path, "no_usage")
                            if door == "chat":
                                # include_usage: what /v1/messages asks an OpenAI upstream for on its own
                                options = {"stream_options": {"include_usage": True}} if stream else {}
                                resp = await http.post(
                                    "/v1/chat/completions",
                                    headers={"authorization": f"Bearer {key}"},
                                    json={"model": model, "max_tokens": 64, "messages": chat_messages, "stream": stream, **options},
                                )
                            else:
                                resp = await http.post(
                                    "/v1/messages",
                                    headers={"x-api-key": key},
                                    json={
                                        "model": model,
                                        "max_tokens": 64,
                                        "system": "Be brief.",
                                        "stream": stream,
                                        "messages": [{"role": "user", "content": "Hello there"}],
                                    },
                                )
                            assert resp.status_code == 200, resp.text
                            expected += 1
        rows = await w.wait_for(lambda: _rows(w, expected))
        fields = ("quota", "prompt_tokens", "completion_tokens", "model_name", "channel_id", "is_stream", "content", "token_name")
        for chat_row, messages_row in zip(rows[0::2], rows[1::2], strict=True):
            assert {f: chat_row[f] for f in fields} == {f: messages_row[f] for f in fields}
        assert {r["prompt_tokens"] for r in rows} > {17}  # the counted ones are in too
        assert (await w.user_row(1))["used_quota"] == sum(r["quota"] for r in rows)


async def test_quota_strict_ends_a_stream_with_max_tokens(sqlite_database, fake_upstream) -> None:
    """QUOTA_STRICT (default on): the max_tokens sent is what the balance covers, and a stream is
    ended in Anthropic's words (stop_reason max_tokens, message_stop) when its cost reaches it."""
    long_reply = " ".join(["word"] * 3000)
    async with relay_world(sqlite_database, fake_upstream) as w:
        await w.channel(name="openai", models="gpt-4o-mini")
        await w.channel(name="claude", type=14, key="claude-key", models="claude-sonnet-4-5")
        client, user_id = await w.user("strict", quota=1_000_000)
        fake_upstream.configure(reply_text=long_reply)  # about 3,000 tokens, whatever max_tokens says
        for model in ("gpt-4o-mini", "claude-sonnet-4-5"):
            await w.ratio("ModelRatio", model, 1.0)
            await w.ratio("CompletionRatio", model, 1.0)
        balance = 2000  # covers the reservation (500 + prompt + 1,000), not the whole answer
        for model, path in (("gpt-4o-mini", "/v1/chat/completions"), ("claude-sonnet-4-5", "/v1/messages")):
            token = await w.token(client, name=model, unlimited_quota=False, remain_quota=balance)
            fake_upstream.fail_next(path, "no_usage")  # the cost comes from the text received
            key = f"sk-{token['key']}"
            async with sdk_for(w, key) as (_, http):
                events = await raw_stream(
                    http, key, {"model": model, "max_tokens": 1000, "messages": [{"role": "user", "content": "Talk."}]}
                )
            assert events[-1][0] == "message_stop" and stop_and_usage(events)[0] == "max_tokens", events[-3:]
            assert check_sequence(events)[0]["type"] == "text"  # the open block closed, the grammar whole
            assert 0 < fake_upstream.last.json()["max_tokens"] <= 1000
            text = "".join(e[1]["delta"].get("text", "") for e in events if e[0] == "content_block_delta")
            assert 0 < len(text) < len(long_reply)  # cut short
            await w.flush()
            row = await w.token_row(token["id"])
            assert row["remain_quota"] >= 0 and row["used_quota"] <= balance
        await client.aclose()


async def test_other_providers_through_their_chat_conversion(sqlite_database, fake_upstream) -> None:
    """A Gemini channel: Messages -> chat -> Gemini and back, whole and streamed, with a tool call."""
    async with relay_world(sqlite_database, fake_upstream) as w:
        await w.channel(name="gemini", type=24, key="gemini-key", models="gemini-1.5-flash")
        key = f"sk-{(await w.token())['key']}"
        async with sdk_for(w, key) as (sdk, http):
            answer = await sdk.messages.create(
                model="gemini-1.5-flash", max_tokens=64, system="Be brief.", messages=[{"role": "user", "content": "Hello"}]
            )
            assert answer.content[0].type == "text" and answer.content[0].text == REPLY
            assert "generateContent" in fake_upstream.last.path
            events = await raw_stream(
                http, key, {"model": "gemini-1.5-flash", "max_tokens": 64, "messages": [{"role": "user", "content": "Hello"}]}
            )
            assert check_sequence(events) == [{"type": "text", "text": REPLY}]
            tool = await sdk.messages.create(
                model="gemini-1.5-flash", max_tokens=64, tools=TOOLS, messages=[{"role": "user", "content": "Find foo"}]
            )
            assert tool.stop_reason == "tool_use" and tool.content[-1].type == "tool_use"
