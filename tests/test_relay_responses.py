"""The official openai SDK's Responses API (`client.responses`) against a running master (in-process
ASGI): converted through chat completions to Anthropic and Gemini channels, passed through to
OpenAI and Azure channels; text, streams, function-call round trips, images, errors, stored
responses, and billing and log rows equal to the same conversation sent to /v1/chat/completions."""

from __future__ import annotations

import json
from typing import Any

import httpx
import openai
import pytest

from tests.fake_upstream.common import TOOL_ARGUMENTS
from tests.fake_upstream.state import Canned
from tests.support.relay_kit import World, relay_world

REPLY = Canned().reply_text
IMAGE = "data:image/png;base64,iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8BQDwAEhQGAhKmMIQAAAABJRU5ErkJggg=="
TOOLS: Any = [
    {
        "type": "function",
        "name": "lookup",
        "description": "Look a thing up.",
        "parameters": {"type": "object", "properties": {"query": {"type": "string"}}},
    }
]
CONVERTED = ("claude-3-5-haiku-20241022", "gemini-1.5-flash", "compatible-model")  # Anthropic, Gemini, OpenAI-compatible
PASSED = ("gpt-4o", "gpt-4o-mini")  # OpenAI, Azure


async def _world_channels(w: World) -> None:
    await w.channel(name="openai", models="gpt-4o")
    await w.channel(name="azure", type=3, key="azure-key", other="v1", models="gpt-4o-mini")
    await w.channel(name="claude", type=14, key="claude-key", models="claude-3-5-haiku-20241022")
    await w.channel(name="gemini", type=24, key="gemini-key", models="gemini-1.5-flash")
    await w.channel(w.fake.url + "/v1", name="compatible", type=50, key="compatible-key", models="compatible-model")


def _sdk(w: World, http: httpx.AsyncClient, token: dict[str, Any]) -> openai.AsyncOpenAI:
    return openai.AsyncOpenAI(api_key=f"sk-{token['key']}", base_url="http://testserver/v1", http_client=http, max_retries=0)


def _http(w: World) -> httpx.AsyncClient:
    return httpx.AsyncClient(transport=httpx.ASGITransport(app=w.app, client=("127.0.0.1", 40003)), base_url="http://testserver")


async def _events(stream: Any) -> list[Any]:
    return [event async for event in stream]


def _check_text_events(events: list[Any]) -> str:
    kinds = [e.type for e in events]
    assert kinds[:2] == ["response.created", "response.in_progress"], kinds
    assert kinds[-1] == "response.completed", kinds
    for kind in (
        "response.output_item.added",
        "response.content_part.added",
        "response.output_text.delta",
        "response.output_text.done",
        "response.content_part.done",
        "response.output_item.done",
    ):
        assert kind in kinds, (kind, kinds)
    assert kinds.index("response.output_text.done") > max(i for i, k in enumerate(kinds) if k == "response.output_text.delta")
    assert [e.sequence_number for e in events] == list(range(len(events)))
    final = events[-1].response
    assert final.usage is not None and final.usage.input_tokens > 0 and final.usage.output_tokens > 0
    return "".join(e.delta for e in events if e.type == "response.output_text.delta")


@pytest.mark.parametrize("model", CONVERTED + PASSED)
async def test_text_stream_tools_and_images(sqlite_database, fake_upstream, model: str) -> None:
    async with relay_world(sqlite_database, fake_upstream) as w:
        await _world_channels(w)
        token = await w.token()
        async with _http(w) as http:
            sdk = _sdk(w, http, token)
            answer = await sdk.responses.create(
                model=model, input="Hello from the Responses SDK", instructions="Be brief.", max_output_tokens=200
            )
            assert answer.output_text == REPLY and answer.status == "completed"
            assert answer.id.startswith("resp_") and answer.usage is not None and answer.usage.total_tokens > 0

            stream = await sdk.responses.create(model=model, input=[{"role": "user", "content": "Stream please"}], stream=True)
            assert _check_text_events(await _events(stream)) == REPLY

            async with sdk.responses.stream(model=model, input="helper stream") as helper:
                async for _ in helper:
                    pass
                final = await helper.get_final_response()
            assert final.output_text == REPLY

            picture = await sdk.responses.create(
                model=model,
                input=[
                    {
                        "role": "user",
                        "content": [
                            {"type": "input_text", "text": "What is in this picture?"},
                            {"type": "input_image", "image_url": IMAGE, "detail": "low"},
                        ],
                    }
                ],
            )
            assert picture.output_text == REPLY

            # A function-call round trip: the model calls the tool, the client answers it.
            first = await sdk.responses.create(model=model, input="Look up fake things", tools=TOOLS)
            calls = [item for item in first.output if item.type == "function_call"]
            assert len(calls) == 1 and calls[0].name == "lookup", first.output
            assert json.loads(calls[0].arguments) == TOOL_ARGUMENTS
            second = await sdk.responses.create(
                model=model,
                tools=TOOLS,
                input=[
                    {"role": "user", "content": "Look up fake things"},
                    {"type": "function_call", "call_id": calls[0].call_id, "name": "lookup", "arguments": calls[0].arguments},
                    {"type": "function_call_output", "call_id": calls[0].call_id, "output": '{"found": 3}'},
                ],
            )
            assert second.output_text == REPLY

            streamed_call = await _events(await sdk.responses.create(model=model, input="Look up, streaming", tools=TOOLS, stream=True))
            kinds = [e.type for e in streamed_call]
            assert "response.function_call_arguments.delta" in kinds and "response.function_call_arguments.done" in kinds, kinds
            done = next(e for e in streamed_call if e.type == "response.function_call_arguments.done")
            assert json.loads(done.arguments) == TOOL_ARGUMENTS
            assert streamed_call[-1].type == "response.completed"
            assert streamed_call[-1].response.output[0].type == "function_call"

        sent = [r for r in fake_upstream.requests if r.method == "POST"]
        if model in PASSED:
            assert all(r.path.endswith("/responses") for r in sent), [r.path for r in sent]
        else:
            assert not any(r.path.endswith("/responses") for r in sent)
        await w.flush()
        logs = await w.consume_logs()
        assert len(logs) == 7 and all(r["quota"] > 0 and r["model_name"] == model for r in logs)


async def test_stored_responses_previous_id_retrieve_and_delete(sqlite_database, fake_upstream) -> None:
    async with relay_world(sqlite_database, fake_upstream) as w:
        await _world_channels(w)
        token = await w.token()
        async with _http(w) as http:
            sdk = _sdk(w, http, token)
            for model in PASSED:
                first = await sdk.responses.create(model=model, input="Remember this.")
                upstream_id = fake_upstream.state.stored_responses and list(fake_upstream.state.stored_responses)[-1]
                assert first.id != upstream_id and upstream_id not in first.id  # opaque
                follow = await sdk.responses.create(model=model, input="And now?", previous_response_id=first.id)
                assert follow.previous_response_id == first.id and follow.output_text == REPLY
                assert fake_upstream.requests[-1].json()["previous_response_id"] == upstream_id
                got = await sdk.responses.retrieve(first.id)
                assert got.id == first.id and got.output_text == REPLY
                items = await http.get(f"/v1/responses/{first.id}/input_items", headers={"Authorization": f"Bearer sk-{token['key']}"})
                assert items.status_code == 200 and items.json()["object"] == "list"
                await sdk.responses.delete(first.id)
                with pytest.raises(openai.NotFoundError):
                    await sdk.responses.retrieve(first.id)
            converted = await sdk.responses.create(model=CONVERTED[0], input="Not stored.")
            with pytest.raises(openai.NotFoundError) as missing:
                await sdk.responses.retrieve(converted.id)
            assert "does not store" in missing.value.message
            with pytest.raises(openai.BadRequestError) as refused:
                await sdk.responses.create(model=CONVERTED[0], input="Go on.", previous_response_id=converted.id)
            assert "does not store conversations" in refused.value.message
            stored = await sdk.responses.create(model="gpt-4o", input="x")
            with pytest.raises(openai.BadRequestError) as other_model:  # a stored id pins its channel
                await sdk.responses.create(model=CONVERTED[0], input="y", previous_response_id=stored.id)
            assert other_model.value.param == "previous_response_id"
        paths = [(r.method, r.path) for r in fake_upstream.requests if r.method != "POST"]
        assert (
            "GET",
            "/openai/v1/responses/" + next(iter(p for m, p in paths if p.startswith("/openai/v1/responses/"))).split("/")[-1],
        ) in paths


async def test_errors(sqlite_database, fake_upstream) -> None:
    async with relay_world(sqlite_database, fake_upstream) as w:
        await _world_channels(w)
        token = await w.token()
        async with _http(w) as http:
            sdk = _sdk(w, http, token)
            for model in (CONVERTED[0], PASSED[0]):
                fake_upstream.fail_next("*", "500")
                with pytest.raises(openai.InternalServerError) as failed:
                    await sdk.responses.create(model=model, input="hi")
                assert failed.value.status_code == 500 and failed.value.type
                fake_upstream.fail_next("*", "cut", after=4)
                events = await _events(await sdk.responses.create(model=model, input="hi", stream=True))
                assert events[-1].type == "response.failed" and events[-1].response.error.code, [e.type for e in events]
            with pytest.raises(openai.BadRequestError) as hosted:  # only OpenAI/Azure channels have hosted tools
                await sdk.responses.create(model=CONVERTED[0], input="search", tools=[{"type": "web_search"}])
            assert "only supported on OpenAI and Azure channels" in hosted.value.message
            passed = await sdk.responses.create(model=PASSED[0], input="search", tools=[{"type": "web_search"}])
            assert passed.output_text == REPLY
            bad = [
                {"input": "no model"},
                {"model": CONVERTED[0], "input": 5},
                {"model": CONVERTED[0], "input": "x", "max_output_tokens": 3},
                {"model": CONVERTED[0], "input": "x", "background": True},
                {"model": CONVERTED[0], "input": [{"type": "message", "role": "robot", "content": "x"}]},
                {"model": CONVERTED[0], "input": [{"role": "user", "content": [{"type": "input_text", "text": 7}]}]},
                {"model": CONVERTED[0], "input": "x", "tool_choice": 5},
                {"model": CONVERTED[0]},
            ]
            for body in bad:
                resp = await http.post("/v1/responses", json=body, headers={"Authorization": f"Bearer sk-{token['key']}"})
                assert resp.status_code == 400 and set(resp.json()) == {"error"}, (body, resp.text)
            for raw in (b"{not json", b"[1, 2]", b""):
                resp = await http.post(
                    "/v1/responses", content=raw, headers={"Authorization": f"Bearer sk-{token['key']}", "content-type": "application/json"}
                )
                assert 400 <= resp.status_code < 500, (raw, resp.text)
            refused = await http.post(
                "/v1/responses", json={"model": CONVERTED[0], "input": "x"}, headers={"Authorization": "Bearer sk-nope"}
            )
            assert refused.status_code == 401
            assert (await http.put("/v1/responses/resp_x", headers={"Authorization": f"Bearer sk-{token['key']}"})).status_code == 404
            stored = await sdk.responses.create(model=PASSED[0], input="kept")
            replay = await http.get(f"/v1/responses/{stored.id}?stream=true", headers={"Authorization": f"Bearer sk-{token['key']}"})
            assert replay.status_code == 400 and replay.json()["error"]["param"] == "stream"


def _row(log: dict[str, Any]) -> tuple[Any, ...]:
    return (
        log["model_name"],
        log["channel_id"],
        log["prompt_tokens"],
        log["completion_tokens"],
        log["quota"],
        log["is_stream"],
        log["content"],
    )


@pytest.mark.parametrize("model", (CONVERTED[0], PASSED[0]))
async def test_billing_and_logs_equal_chat_completions(sqlite_database, fake_upstream, model: str) -> None:
    async with relay_world(sqlite_database, fake_upstream) as w:
        await _world_channels(w)
        client, user_id = await w.user("carol", quota=10_000_000)
        token = await w.token(client, unlimited_quota=False, remain_quota=5_000_000)
        async with _http(w) as http:
            sdk = _sdk(w, http, token)
            for stream in (False, True):
                options: Any = {"stream_options": {"include_usage": True}} if stream else {}  # Responses streams always report usage
                chat: Any = await sdk.chat.completions.create(
                    model=model,
                    stream=stream,
                    **options,
                    messages=[{"role": "system", "content": "Be brief."}, {"role": "user", "content": "Count to three."}],
                )
                if stream:
                    [c async for c in chat]
                response = await sdk.responses.create(model=model, instructions="Be brief.", input="Count to three.", stream=stream)
                if stream:
                    await _events(response)
        await w.flush()
        logs = await w.consume_logs()
        assert len(logs) == 4
        assert _row(logs[0]) == _row(logs[1]) and _row(logs[2]) == _row(logs[3]), logs
        spent = sum(r["quota"] for r in logs)
        assert (await w.user_row(user_id))["used_quota"] == spent
        assert (await w.token_row(token["id"]))["remain_quota"] == 5_000_000 - spent


@pytest.mark.parametrize("model", (CONVERTED[0], PASSED[0]))
async def test_quota_strict_ends_a_stream_at_the_balance(sqlite_database, fake_upstream, model: str) -> None:
    balance = 2000  # above the reservation of a short prompt on gpt-4o (ratio 2.5), far below a long answer
    async with relay_world(sqlite_database, fake_upstream) as w:
        await _world_channels(w)
        client, user_id = await w.user("dave", quota=1_000_000)
        token = await w.token(client, unlimited_quota=False, remain_quota=balance)
        fake_upstream.configure(reply_text=" ".join(["word"] * 3000), prompt_tokens=20, completion_tokens=3000)
        fake_upstream.fail_next("*", "no_usage")  # cost from the text received
        async with _http(w) as http:
            events = await _events(await _sdk(w, http, token).responses.create(model=model, input="Talk a lot.", stream=True))
        last = events[-1]
        assert last.type == "response.incomplete" and last.response.incomplete_details.reason == "max_output_tokens", [
            e.type for e in events[-3:]
        ]
        received = "".join(e.delta for e in events if e.type == "response.output_text.delta")
        assert 0 < len(received) < 3000 * 5
        await w.flush()
        t, u = await w.token_row(token["id"]), await w.user_row(user_id)
        logged = sum(r["quota"] for r in await w.consume_logs())
        assert t["remain_quota"] >= 0 and t["used_quota"] <= balance and t["used_quota"] == u["used_quota"] == logged
        sent = [r.json() for r in fake_upstream.requests if r.method == "POST"]
        assert all(0 < (b.get("max_output_tokens") or b.get("max_tokens")) < 4096 for b in sent), sent  # capped before sending


async def test_failover_from_a_passthrough_channel_to_a_converted_one(sqlite_database, fake_upstream) -> None:
    async with relay_world(sqlite_database, fake_upstream) as w:
        await w.option("RetryTimes", "1")
        first = await w.channel(name="openai", models="gpt-4o", priority=10)
        second = await w.channel(
            name="claude", type=14, key="claude-key", models="gpt-4o", model_mapping='{"gpt-4o": "claude-3-5-haiku-20241022"}'
        )
        token = await w.token()
        async with _http(w) as http:
            sdk = _sdk(w, http, token)
            for stream in (False, True):
                w.engine.cooldowns.seconds = 0  # the failed channel is first again next time
                fake_upstream.fail_next("/v1/responses", "500")
                if stream:
                    events = await _events(await sdk.responses.create(model="gpt-4o", input="hi", stream=True))
                    assert _check_text_events(events) == REPLY
                else:
                    assert (await sdk.responses.create(model="gpt-4o", input="hi")).output_text == REPLY
        assert [r.path for r in fake_upstream.requests] == ["/v1/responses", "/v1/messages"] * 2
        await w.flush()
        assert [r["channel_id"] for r in await w.consume_logs()] == [second, second] and first != second


async def test_input_token_count_is_what_the_gateway_bills(sqlite_database, fake_upstream) -> None:
    async with relay_world(sqlite_database, fake_upstream) as w:
        await _world_channels(w)
        token = await w.token()
        request: Any = {
            "instructions": "Be brief.",
            "tools": TOOLS,
            "input": [
                {
                    "role": "user",
                    "content": [
                        {"type": "input_text", "text": "Count these tokens, please."},
                        {"type": "input_image", "image_url": IMAGE, "detail": "low"},
                    ],
                }
            ],
        }
        async with _http(w) as http:
            sdk = _sdk(w, http, token)
            counts = {}
            for model in (CONVERTED[2], PASSED[0]):
                counted = await sdk.responses.input_tokens.count(model=model, **request)
                assert counted.object == "response.input_tokens" and counted.input_tokens > 10
                counts[model] = counted.input_tokens
                fake_upstream.fail_next("*", "no_usage")  # billed by the gateway's own count
                await sdk.responses.create(model=model, **request)
            assert (await sdk.responses.input_tokens.count(input="hi")).input_tokens > 0  # no model: gpt-4o's tokenizer
            bad = await http.post("/v1/responses/input_tokens", json={"input": 5}, headers={"Authorization": f"Bearer sk-{token['key']}"})
            assert bad.status_code == 400
        await w.flush()
        assert {r["model_name"]: r["prompt_tokens"] for r in await w.consume_logs()} == counts
        assert not any(r.path.endswith("input_tokens") for r in fake_upstream.requests)
