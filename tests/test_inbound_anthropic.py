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
import orjson

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
        httpx2.AsyncClient(transport=httpx2.ASGITransport(app=w.app, client=("127.0.0.1", 40003)), base_url="http://testserver") as sdk_http,
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
            events = await raw_stream(http, key, {"model": "gpt-4o-mini", "max_tokens": 64, "messages": [{"role": "user", "content": "Hi"}]})
            blocks = check_sequence(events)
            assert blocks == [{"type": "text", "text": REPLY}]
            assert stop_and_usage(events) == ("end_turn", {"input_tokens": 17, "output_tokens": 11, "cache_creation_input_tokens": 0, "cache_read_input_tokens": 0})
            assert fake_upstream.last.json()["stream_options"] == {"include_usage": True}

            # Tool use round trip: tool_use out, tool_result back in, text at the end.
            first = await sdk.messages.create(model="gpt-4o-mini", max_tokens=64, tools=TOOLS, messages=[{"role": "user", "content": "Find foo"}])
            assert first.stop_reason == "tool_use"
            use = first.content[0]
            assert use.type == "tool_use" and use.name == "search" and use.input == {"query": "fake"} and use.id == "call_fake_0"
            assert fake_upstream.last.json()["tools"] == [
                {"type": "function", "function": {"name": "search", "parameters": TOOLS[0]["input_schema"], "description": "Search the code base"}}
            ]
            turns: list[Any] = [
                {"role": "user", "content": "Find foo"},
                {"role": "assistant", "content": [use.model_dump()]},
                {"role": "user", "content": [{"type": "tool_result", "tool_use_id": use.id, "content": "foo is in bar.py"}]},
            ]
            second = await sdk.messages.create(model="gpt-4o-mini", max_tokens=64, tools=TOOLS, messages=turns)
            assert second.content[0].text == REPLY and second.stop_reason == "end_turn"
            assert fake_upstream.last.json()["messages"][1:] == [
                {"role": "assistant", "content": None, "tool_calls": [{"id": "call_fake_0", "type": "function", "function": {"name": "search", "arguments": '{"query":"fake"}'}}]},
                {"role": "tool", "tool_call_id": "call_fake_0", "content": "foo is in bar.py"},
            ]
            events = await raw_stream(http, key, {"model": "gpt-4o-mini", "max_tokens": 64, "tools": TOOLS, "messages": [{"role": "user", "content": "Find foo"}]})
            assert check_sequence(events) == [{"type": "tool_use", "id": "call_fake_0", "name": "search", "input": {"query": "fake"}}]
            assert stop_and_usage(events)[0] == "tool_use"

            # Image input: a base64 block becomes an image_url data URL.
            image = await sdk.messages.create(
                model="gpt-4o-mini",
                max_tokens=64,
                messages=[{"role": "user", "content": [
                    {"type": "image", "source": {"type": "base64", "media_type": "image/png", "data": PNG}},
                    {"type": "text", "text": "What is this?"},
                ]}],
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
            body = {"model": "gpt-4o-mini", "max_tokens": 2048, "thinking": {"type": "enabled", "budget_tokens": 1024}, "messages": [{"role": "user", "content": "Hi"}]}
            answer = await sdk.messages.create(**body)
            assert [b.type for b in answer.content] == ["thinking", "text"]
            assert answer.content[0].thinking == "Let me think about it."
            assert "thinking" not in fake_upstream.last.json()
            blocks = check_sequence(await raw_stream(http, key, body))
            assert blocks == [{"type": "thinking", "thinking": "Let me think about it.", "signature": ""}, {"type": "text", "text": REPLY}]
