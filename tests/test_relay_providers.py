"""Non-OpenAI channels through the relay (docs/one-api-compat.md §5.8): Azure (3), Anthropic (14), Gemini (24):
the upstream request the fake received, the OpenAI-shaped answer, and the billing."""

from __future__ import annotations

import math

import orjson

from shared.billing import tokenizer
from shared.relay import engine as engine_module
from tests.fake_upstream.state import Canned
from tests.support.relay_kit import CHAT, relay_world, sse_payloads

REPLY = Canned().reply_text
TOOLS = [
    {
        "type": "function",
        "function": {
            "name": "lookup",
            "description": "Look something up",
            "parameters": {"type": "object", "properties": {"query": {"type": "string"}}, "required": ["query"]},
        },
    }
]


def stream_text(text: str) -> tuple[str, list[dict]]:
    payloads = sse_payloads(text)
    assert payloads[-1] == "[DONE]" and payloads.count("[DONE]") == 1
    parsed = [orjson.loads(p) for p in payloads[:-1]]
    assert all(c["object"] == "chat.completion.chunk" for c in parsed)
    return "".join((c["choices"][0]["delta"].get("content") or "") for c in parsed if c.get("choices")), parsed


async def test_azure_channel(sqlite_database, fake_upstream) -> None:
    async with relay_world(sqlite_database, fake_upstream) as w:
        await w.channel(type=3, key="azure-secret", config='{"api_version": "2024-06-01"}', models="gpt-3.5-turbo,text-embedding-3-small")
        token = await w.token()
        resp = await w.chat(token)
        assert resp.status_code == 200, resp.text
        assert resp.json()["choices"][0]["message"]["content"] == REPLY
        req = fake_upstream.last
        assert (req.path, req.query) == ("/openai/deployments/gpt-35-turbo/chat/completions", "api-version=2024-06-01")
        assert req.headers["api-key"] == "azure-secret" and req.key == "azure-secret"
        resp = await w.root.post(
            "/v1/embeddings", headers={"Authorization": f"Bearer sk-{token['key']}"}, json={"model": "text-embedding-3-small", "input": "x"}
        )
        assert resp.status_code == 200, resp.text
        assert fake_upstream.last.path == "/openai/deployments/text-embedding-3-small/embeddings"
        await w.flush()
        logs = await w.consume_logs()
        assert [(r["model_name"], r["quota"]) for r in logs][0] == ("gpt-3.5-turbo", 13)  # ceil((17 + 11×3) × 0.25)


async def test_anthropic_channel(sqlite_database, fake_upstream) -> None:
    model = "claude-3-5-sonnet-20241022"
    async with relay_world(sqlite_database, fake_upstream) as w:
        await w.channel(type=14, key="anthropic-secret", models=model)
        token = await w.token()
        messages = [{"role": "system", "content": "Be brief."}, *CHAT]

        resp = await w.chat(token, model=model, messages=messages, max_tokens=64)
        assert resp.status_code == 200, resp.text
        answer = resp.json()
        assert answer["object"] == "chat.completion"
        assert (
            answer["choices"][0]["message"] == {"role": "assistant", "content": REPLY}
            or answer["choices"][0]["message"]["content"] == REPLY
        )
        assert answer["choices"][0]["finish_reason"] == "stop"
        assert answer["usage"] == {"prompt_tokens": 17, "completion_tokens": 11, "total_tokens": 28}
        req = fake_upstream.last
        assert req.path == "/v1/messages"
        assert req.headers["x-api-key"] == "anthropic-secret"
        assert req.headers["anthropic-version"] == "2023-06-01"
        sent = req.json()
        assert sent["system"] == "Be brief." and sent["max_tokens"] == 64
        assert sent["messages"][0]["role"] == "user"

        resp = await w.chat(token, model=model, messages=messages, stream=True)
        assert resp.status_code == 200
        text, parsed = stream_text(resp.text)
        assert text == REPLY
        assert parsed[-1]["choices"][0]["finish_reason"] == "stop" or any(
            c["choices"] and c["choices"][0].get("finish_reason") == "stop" for c in parsed
        )

        resp = await w.chat(token, model=model, tools=TOOLS)
        assert resp.status_code == 200, resp.text
        choice = resp.json()["choices"][0]
        assert choice["finish_reason"] == "tool_calls"
        call = choice["message"]["tool_calls"][0]
        assert call["type"] == "function" and call["function"]["name"] == "lookup"
        assert orjson.loads(call["function"]["arguments"]) == {"query": "fake"}
        assert fake_upstream.last.json()["tools"][0]["name"] == "lookup"
        assert "input_schema" in fake_upstream.last.json()["tools"][0]

        resp = await w.chat(token, model=model, tools=TOOLS, stream=True)
        _, parsed = stream_text(resp.text)
        fragments = [
            tc["function"].get("arguments") or ""
            for c in parsed
            if c.get("choices")
            for tc in c["choices"][0]["delta"].get("tool_calls") or []
        ]
        assert orjson.loads("".join(fragments)) == {"query": "fake"}

        await w.flush()
        logs = await w.consume_logs()
        # claude-3-5-sonnet: ratio 1.5, completion 5 -> ceil((17 + 11×5) × 1.5) = 108
        assert [(r["prompt_tokens"], r["completion_tokens"], r["quota"]) for r in logs][:2] == [(17, 11, 108), (17, 11, 108)]


async def test_gemini_channel(sqlite_database, fake_upstream) -> None:
    model = "gemini-1.5-flash"
    async with relay_world(sqlite_database, fake_upstream) as w:
        await w.channel(type=24, key="gemini-secret", models=model)
        token = await w.token()
        resp = await w.chat(token, model=model)
        assert resp.status_code == 200, resp.text
        assert resp.json()["choices"][0]["message"]["content"] == REPLY
        req = fake_upstream.last
        assert req.path == f"/v1beta/models/{model}:generateContent"
        assert req.headers["x-goog-api-key"] == "gemini-secret"
        assert req.json()["contents"][0]["parts"][0]["text"] == CHAT[0]["content"]

        resp = await w.chat(token, model=model, stream=True)
        assert resp.status_code == 200
        text, _ = stream_text(resp.text)
        assert text == REPLY
        req = fake_upstream.last
        assert req.path == f"/v1beta/models/{model}:streamGenerateContent" and req.query == "alt=sse"

        await w.flush()
        logs = await w.consume_logs()
        # One API bills Gemini on the prompt estimate plus the counted reply: ratio 0.0375, completion 3.
        prompt = await tokenizer.count_messages(CHAT, model)
        completion = tokenizer.count_text(REPLY, model)
        quota = math.ceil((prompt + completion * 3) * 0.0375)
        assert [(r["prompt_tokens"], r["completion_tokens"], r["quota"]) for r in logs] == [(prompt, completion, quota)] * 2


async def test_unsupported_channel_type_answers_clearly_and_fails_over(sqlite_database, fake_upstream, monkeypatch) -> None:
    """A channel whose provider has no adaptor (Baidu, 15, with its adaptor taken away here) gets a
    clear 501, never a crash; with retries on, the request moves on to a channel that works and
    nothing is billed for the first."""
    real = engine_module.adaptor_for
    monkeypatch.setattr(engine_module, "adaptor_for", lambda type_id: None if type_id == 15 else real(type_id))
    async with relay_world(sqlite_database, fake_upstream) as w:
        baidu = await w.channel(type=15, name="baidu", key="id|secret", models="gpt-3.5-turbo", priority=10)
        token = await w.token()
        resp = await w.chat(token)
        assert resp.status_code == 501
        error = resp.json()["error"]
        assert error["code"] == "channel_type_not_supported"
        assert error["message"].startswith(f"channel type 15 of channel #{baidu} is not supported yet (request id: ")
        assert fake_upstream.requests == []
        await w.channel(name="openai", models="gpt-3.5-turbo", priority=0)
        await w.option("RetryTimes", "1")
        resp = await w.chat(token)
        assert resp.status_code == 200, resp.text
        await w.flush()
        assert [row["channel_id"] for row in await w.consume_logs()] == [baidu + 1]
