"""The official google-genai SDK against a running master (in-process ASGI): Gemini's native API
served through an OpenAI channel (converted both ways) and through a Gemini channel."""

from __future__ import annotations

import asyncio
import base64
from typing import Any

import httpx
import pytest
from google import genai
from google.genai import errors, types

from tests.fake_upstream.common import TOOL_ARGUMENTS
from tests.fake_upstream.state import Canned
from tests.support.relay_kit import World, relay_world

REPLY = Canned().reply_text
PIXEL = base64.b64decode("iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8BQDwAEhQGAhKmMIQAAAABJRU5ErkJggg==")
MODELS = ("gpt-4o-mini", "gemini-1.5-flash")  # an OpenAI channel (converted), a Gemini channel
WEATHER = types.FunctionDeclaration(
    name="lookup",
    description="Look something up.",
    parameters=types.Schema(type=types.Type.OBJECT, properties={"query": types.Schema(type=types.Type.STRING)}),
)


async def _world_channels(w: World) -> None:
    await w.channel(name="openai", models="gpt-4o-mini,text-embedding-3-small")
    await w.channel(name="gemini", type=24, key="gemini-key", models="gemini-1.5-flash,text-embedding-004")


def sdk(w: World, key: str, http: httpx.AsyncClient) -> genai.Client:
    options = types.HttpOptions(base_url="http://testserver", api_version="v1beta", httpx_async_client=http)
    return genai.Client(api_key=key, http_options=options)


def _http(w: World) -> httpx.AsyncClient:
    transport = httpx.ASGITransport(app=w.app, client=("127.0.0.1", 40005))
    return httpx.AsyncClient(transport=transport, base_url="http://testserver")


async def test_text_stream_tools_image_count_embed(sqlite_database, fake_upstream) -> None:
    async with relay_world(sqlite_database, fake_upstream) as w:
        await _world_channels(w)
        token = await w.token()
        async with _http(w) as http:
            client = sdk(w, f"sk-{token['key']}", http).aio
            for model in MODELS:
                answer = await client.models.generate_content(model=model, contents="Hello from google-genai")
                assert answer.text == REPLY, model
                assert answer.candidates[0].finish_reason == types.FinishReason.STOP

                if model.startswith("gemini"):  # passed through: fields the gateway does not convert arrive as sent
                    safety = [types.SafetySetting(category="HARM_CATEGORY_HATE_SPEECH", threshold="BLOCK_LOW_AND_ABOVE")]
                    config = types.GenerateContentConfig(safety_settings=safety, top_k=7)
                    await client.models.generate_content(model=model, contents="Keep it safe", config=config)
                    sent_request = fake_upstream.requests[-1]
                    sent = sent_request.json()
                    assert sent["safetySettings"] == [{"category": "HARM_CATEGORY_HATE_SPEECH", "threshold": "BLOCK_LOW_AND_ABOVE"}]
                    assert sent["generationConfig"] == {"topK": 7}
                    assert sent_request.key == "gemini-key" and sent_request.path == f"/v1beta/models/{model}:generateContent"

                text = ""
                last: Any = None
                async for chunk in await client.models.generate_content_stream(model=model, contents="Stream, please"):
                    text += chunk.text or ""
                    last = chunk
                assert text == REPLY, model
                assert last.candidates[0].finish_reason == types.FinishReason.STOP

                config = types.GenerateContentConfig(tools=[types.Tool(function_declarations=[WEATHER])], system_instruction="Use tools.")
                first = await client.models.generate_content(model=model, contents="Look up fake", config=config)
                calls = first.function_calls
                assert calls and calls[0].name == "lookup" and calls[0].args == TOOL_ARGUMENTS, model
                history = [
                    types.Content(role="user", parts=[types.Part(text="Look up fake")]),
                    first.candidates[0].content,
                    types.Content(
                        role="user",
                        parts=[types.Part.from_function_response(name="lookup", response={"result": "found"})],
                    ),
                ]
                second = await client.models.generate_content(model=model, contents=history, config=config)
                assert second.text == REPLY, model
                sent = fake_upstream.requests[-1].json()
                if model.startswith("gpt"):
                    tool_turn = sent["messages"][-1]
                    assert tool_turn["role"] == "tool" and tool_turn["tool_call_id"] == sent["messages"][-2]["tool_calls"][0]["id"]
                else:
                    assert sent["contents"][-1]["parts"][0]["functionResponse"]["name"] == "lookup"

                streamed_calls = []
                async for chunk in await client.models.generate_content_stream(model=model, contents="Look up fake", config=config):
                    streamed_calls += chunk.function_calls or []
                assert [c.name for c in streamed_calls] == ["lookup"] and streamed_calls[0].args == TOOL_ARGUMENTS

                image = await client.models.generate_content(
                    model=model,
                    contents=[types.Part.from_bytes(data=PIXEL, mime_type="image/png"), "What is this?"],
                )
                assert image.text == REPLY
                sent = fake_upstream.requests[-1].json()
                if model.startswith("gpt"):
                    assert sent["messages"][-1]["content"][0]["image_url"]["url"].startswith("data:image/png;base64,")
                else:
                    inline = sent["contents"][-1]["parts"][0]["inlineData"]  # passed through as the SDK wrote it
                    assert inline["mime_type"] == "image/png" and base64.b64decode(inline["data"]) == PIXEL

                counted = await client.models.count_tokens(model=model, contents="How many tokens is this?")
                assert counted.total_tokens and counted.total_tokens > 5

            # Without api_version, google-genai given a base_url speaks /v1/models/{model}:generateContent.
            stable = genai.Client(
                api_key=f"sk-{token['key']}", http_options=types.HttpOptions(base_url="http://testserver", httpx_async_client=http)
            ).aio
            assert (await stable.models.generate_content(model="gpt-4o-mini", contents="Hi on v1")).text == REPLY
            assert (await http.get("/v1/models/gpt-4o-mini", headers={"Authorization": f"Bearer sk-{token['key']}"})).json()[
                "id"
            ] == "gpt-4o-mini"

            listed = {m.name: m for m in [m async for m in await client.models.list()]}
            assert set(listed) == {
                f"models/{m}" for m in ("gpt-4o-mini", "text-embedding-3-small", "gemini-1.5-flash", "text-embedding-004")
            }
            assert "generateContent" in listed["models/gpt-4o-mini"].supported_actions
            assert (await client.models.get(model="gemini-1.5-flash")).name == "models/gemini-1.5-flash"

            for model in ("text-embedding-3-small", "text-embedding-004"):
                one = await client.models.embed_content(model=model, contents="one")
                assert one.embeddings and len(one.embeddings[0].values) == 8
                many = await client.models.embed_content(model=model, contents=["one", "two", "three"])
                assert len(many.embeddings) == 3
                assert many.embeddings[0].values == one.embeddings[0].values


async def test_errors_in_google_shape(sqlite_database, fake_upstream) -> None:
    async with relay_world(sqlite_database, fake_upstream) as w:
        await _world_channels(w)
        token = await w.token()
        limited = await w.token(name="limited", models="gpt-4o-mini")
        async with _http(w) as http:
            with pytest.raises(errors.ClientError) as bad_key:
                await sdk(w, "sk-not-a-token", http).aio.models.generate_content(model="gpt-4o-mini", contents="hi")
            assert bad_key.value.code == 401 and bad_key.value.status == "UNAUTHENTICATED"

            with pytest.raises(errors.ClientError) as denied:
                await sdk(w, f"sk-{limited['key']}", http).aio.models.generate_content(model="gemini-1.5-flash", contents="hi")
            assert denied.value.code == 403 and denied.value.status == "PERMISSION_DENIED"
            assert "gemini-1.5-flash" in (denied.value.message or "")

            with pytest.raises(errors.ClientError) as hidden:
                await sdk(w, f"sk-{limited['key']}", http).aio.models.get(model="gemini-1.5-flash")
            assert hidden.value.code == 404 and hidden.value.status == "NOT_FOUND"

            client = sdk(w, f"sk-{token['key']}", http).aio
            with pytest.raises(errors.ServerError) as no_channel:
                await client.models.generate_content(model="no-such-model", contents="hi")
            assert no_channel.value.code == 503 and no_channel.value.status == "UNAVAILABLE"

            fake_upstream.fail_next("/v1/chat/completions", "400")
            with pytest.raises(errors.ClientError) as upstream:
                await client.models.generate_content(model="gpt-4o-mini", contents="hi")
            assert upstream.value.code == 400 and upstream.value.status == "INVALID_ARGUMENT"

            resp = await http.post(
                "/v1beta/models/gpt-4o-mini:generateContent", headers={"x-goog-api-key": token["key"]}, content=b"{not json"
            )
            assert resp.status_code == 400 and set(resp.json()["error"]) == {"code", "message", "status"}
            resp = await http.post(
                "/v1beta/models/gpt-4o-mini:generateContent", headers={"x-goog-api-key": token["key"]}, json={"contents": "x"}
            )
            assert resp.status_code == 400 and resp.json()["error"]["status"] == "INVALID_ARGUMENT"
            resp = await http.post("/v1beta/models/gpt-4o-mini:predict", headers={"x-goog-api-key": token["key"]}, json={})
            assert resp.status_code == 404 and resp.json()["error"]["status"] == "NOT_FOUND"


LOG_FIELDS = ("model_name", "channel_id", "quota", "prompt_tokens", "completion_tokens", "is_stream", "content")


async def test_billing_and_logs_equal_chat_completions(sqlite_database, fake_upstream) -> None:
    """The same conversation through /v1beta and through /v1/chat/completions: equal log rows."""
    async with relay_world(sqlite_database, fake_upstream) as w:
        await _world_channels(w)
        token = await w.token()
        chat_headers = {"Authorization": f"Bearer sk-{token['key']}"}
        async with _http(w) as http:
            client = sdk(w, f"sk-{token['key']}", http).aio
            config = types.GenerateContentConfig(system_instruction="Be brief.", max_output_tokens=50, temperature=0.5)
            messages = [{"role": "system", "content": "Be brief."}, {"role": "user", "content": "Count the tokens of this turn"}]
            for model in MODELS:
                await client.models.generate_content(model=model, contents="Count the tokens of this turn", config=config)
                chat = {"model": model, "messages": messages, "max_tokens": 50, "temperature": 0.5}
                assert (await http.post("/v1/chat/completions", headers=chat_headers, json=chat)).status_code == 200
                async for _ in await client.models.generate_content_stream(
                    model=model, contents="Count the tokens of this turn", config=config
                ):
                    pass
                streamed = {**chat, "stream": True, "stream_options": {"include_usage": True}}
                assert (await http.post("/v1/chat/completions", headers=chat_headers, json=streamed)).status_code == 200
        logs = await w.wait_for(lambda: _rows(w, 8))
        for gemini_row, chat_row in zip(logs[0::2], logs[1::2], strict=True):
            assert gemini_row["quota"] > 0
            assert {f: gemini_row[f] for f in LOG_FIELDS} == {f: chat_row[f] for f in LOG_FIELDS}
        total = sum(r["quota"] for r in logs)

        async def user_used() -> bool:
            return (await w.user_row(1))["used_quota"] == total

        assert await w.wait_for(user_used)


async def _rows(w: World, count: int) -> list[dict[str, Any]] | None:
    logs = await w.consume_logs()
    return logs if len(logs) == count else None


async def test_query_key_auth_is_never_logged(sqlite_database, fake_upstream, capfd) -> None:
    """`?key=` authenticates like x-goog-api-key, and neither the access line nor any other line,
    nor the upstream request, carries it."""
    async with relay_world(sqlite_database, fake_upstream) as w:
        await _world_channels(w)
        token = await w.token()
        secret = token["key"]
        async with _http(w) as http:
            body = {"contents": [{"role": "user", "parts": [{"text": "hi"}]}]}
            ok = await http.post(f"/v1beta/models/gpt-4o-mini:generateContent?key=sk-{secret}&alt=json", json=body)
            assert ok.status_code == 200 and ok.json()["candidates"][0]["content"]["parts"][0]["text"] == REPLY
            bad = await http.post(f"/v1beta/models/gpt-4o-mini:generateContent?key=sk-{secret}x", json=body)
            assert bad.status_code == 401 and bad.json()["error"]["status"] == "UNAUTHENTICATED"
            streamed = await http.post(f"/v1beta/models/gemini-1.5-flash:streamGenerateContent?alt=sse&key={secret}", json=body)
            assert streamed.status_code == 200 and REPLY.split()[0] in streamed.text
        await w.flush()
        upstream = fake_upstream.requests
        assert all(secret not in r.path and secret not in r.query and secret not in str(r.headers) for r in upstream)
        written = ""
        for _ in range(200):  # the log writer thread drains its queue every 0.2 s (shared.logs)
            captured = capfd.readouterr()
            written += captured.err + captured.out
            if written.count('"path":"/v1beta/models/') >= 3:
                break
            await asyncio.sleep(0.05)
        assert written.count('"path":"/v1beta/models/') >= 3  # the three access lines were written
        assert secret not in written


async def test_quota_strict_caps_a_passed_through_request(sqlite_database, fake_upstream) -> None:
    """QUOTA_STRICT's max_tokens cap reaches a Gemini channel as maxOutputTokens, the client's other
    generationConfig fields kept; the converted path sends the same cap as max_tokens."""
    async with relay_world(sqlite_database, fake_upstream) as w:
        await w.channel(name="openai", models="gpt-4o-mini")
        await w.channel(name="gemini", type=24, key="gemini-key", models="gemini-1.5-flash")
        await w.ratio("ModelRatio", "gemini-1.5-flash", 0.075)
        await w.ratio("ModelRatio", "gpt-4o-mini", 0.075)
        await w.ratio("CompletionRatio", "gemini-1.5-flash", 4)
        await w.ratio("CompletionRatio", "gpt-4o-mini", 4)
        client_http, _ = await w.user("strict", quota=1_000_000)
        token = await w.token(client_http, name="small", unlimited_quota=False, remain_quota=500)
        async with _http(w) as http:
            client = sdk(w, f"sk-{token['key']}", http).aio
            config = types.GenerateContentConfig(top_k=3)
            assert (await client.models.generate_content(model="gemini-1.5-flash", contents="Cap me", config=config)).text == REPLY
            sent = fake_upstream.requests[-1].json()["generationConfig"]
            assert sent["topK"] == 3 and isinstance(sent["maxOutputTokens"], int) and 0 < sent["maxOutputTokens"] < 4096
            assert (await client.models.generate_content(model="gpt-4o-mini", contents="Cap me", config=config)).text == REPLY
            converted = fake_upstream.requests[-1].json()
            assert 0 < converted["max_tokens"] <= sent["maxOutputTokens"]
