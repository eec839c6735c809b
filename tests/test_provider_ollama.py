"""Ollama (type 30) through a real master against the fake Ollama (tests/fake_upstream/ollama.py):
native /api/chat and /api/embed, the NDJSON stream, billing from prompt_eval_count/eval_count,
error mapping and the channel test."""

from __future__ import annotations

import base64

import orjson
import pytest

from shared.relay import modes
from shared.relay.adaptors.ollama.adaptor import OllamaAdaptor
from shared.relay.types import RelayError, RelayMeta
from tests.fake_upstream.common import TOOL_ARGUMENTS
from tests.fake_upstream.ollama import MISSING_MODEL
from tests.fake_upstream.state import Canned
from tests.support.relay_kit import CHAT, World, error_of, relay_world, sse_payloads

REPLY = Canned().reply_text
MODEL = "llama3:latest"


async def _setup(w: World) -> tuple[int, dict]:
    channel = await w.channel(type=30, key="ollama-key", models=f"{MODEL},nomic-embed-text,{MISSING_MODEL}")
    for model in (MODEL, "nomic-embed-text"):
        await w.ratio("ModelRatio", model, 1)
        await w.ratio("CompletionRatio", model, 2)
    return channel, await w.token()


async def test_chat_and_billing_from_eval_counts(sqlite_database, fake_upstream) -> None:
    async with relay_world(sqlite_database, fake_upstream) as w:
        channel, token = await _setup(w)
        resp = await w.chat(token, model=MODEL, max_tokens=50, temperature=0.2, seed=7)
        assert resp.status_code == 200, resp.text
        answer = resp.json()
        assert answer["object"] == "chat.completion" and answer["model"] == MODEL
        assert answer["choices"][0]["message"] == {"role": "assistant", "content": REPLY}
        assert answer["choices"][0]["finish_reason"] == "stop"
        assert answer["usage"] == {"prompt_tokens": 17, "completion_tokens": 11, "total_tokens": 28}
        sent = fake_upstream.last
        assert sent.path == "/api/chat" and sent.headers["authorization"] == "Bearer ollama-key"
        assert sent.json() == {
            "model": MODEL,
            "messages": [{"role": "user", "content": CHAT[0]["content"]}],
            "stream": False,
            "options": {"seed": 7, "temperature": 0.2, "num_predict": 50},
        }
        logs = await w.wait_for(w.consume_logs)
        assert [(r["prompt_tokens"], r["completion_tokens"], r["quota"], r["channel_id"]) for r in logs] == [(17, 11, 17 + 11 * 2, channel)]


async def test_ndjson_stream_becomes_sse_and_is_billed(sqlite_database, fake_upstream) -> None:
    async with relay_world(sqlite_database, fake_upstream) as w:
        _, token = await _setup(w)
        resp = await w.chat(token, model=MODEL, stream=True)
        assert resp.status_code == 200 and resp.headers["content-type"].startswith("text/event-stream")
        payloads = sse_payloads(resp.text)
        assert payloads[-1] == "[DONE]"
        chunks = [orjson.loads(p) for p in payloads[:-1]]
        assert all(c["object"] == "chat.completion.chunk" for c in chunks)
        assert "".join(c["choices"][0]["delta"]["content"] for c in chunks) == REPLY
        assert chunks[-1]["choices"][0]["finish_reason"] == "stop"
        assert fake_upstream.last.json()["stream"] is True
        logs = await w.wait_for(w.consume_logs)
        assert (logs[0]["prompt_tokens"], logs[0]["completion_tokens"], logs[0]["quota"], logs[0]["is_stream"]) == (
            17,
            11,
            39,
            True,
        )


async def test_embeddings(sqlite_database, fake_upstream) -> None:
    async with relay_world(sqlite_database, fake_upstream) as w:
        _, token = await _setup(w)
        resp = await w.root.post(
            "/v1/embeddings",
            headers={"Authorization": f"Bearer sk-{token['key']}"},
            json={"model": "nomic-embed-text", "input": ["one", "two"]},
        )
        assert resp.status_code == 200, resp.text
        answer = resp.json()
        assert [d["index"] for d in answer["data"]] == [0, 1] and len(answer["data"][0]["embedding"]) == 8
        assert answer["usage"] == {"prompt_tokens": 10, "completion_tokens": 0, "total_tokens": 10}
        assert fake_upstream.last.path == "/api/embed"
        assert fake_upstream.last.json() == {"model": "nomic-embed-text", "input": ["one", "two"], "options": {}}
        logs = await w.wait_for(w.consume_logs)
        assert (logs[0]["prompt_tokens"], logs[0]["quota"]) == (10, 10)


async def test_errors_are_mapped(sqlite_database, fake_upstream) -> None:
    async with relay_world(sqlite_database, fake_upstream) as w:
        _, token = await _setup(w)
        resp = await w.chat(token, model=MISSING_MODEL)
        assert resp.status_code == 404
        error = error_of(resp)
        assert error["message"].startswith(f'model "{MISSING_MODEL}" not found, try pulling it first')
        assert error["type"] == "upstream_error"

        fake_upstream.fail_next("/api/chat", "error200")  # an error inside a 200 body
        resp = await w.chat(token, model=MODEL)
        assert resp.status_code == 500
        assert error_of(resp)["type"] == "ollama_error" and error_of(resp)["code"] == "ollama_error"

        resp = await w.root.post(
            "/v1/images/generations",
            headers={"Authorization": f"Bearer sk-{token['key']}"},
            json={"model": MODEL, "prompt": "a cat"},
        )
        assert resp.status_code == 500 and error_of(resp)["code"] == "do_request_failed"
        assert await w.consume_logs() == []


async def test_channel_test(sqlite_database, fake_upstream) -> None:
    async with relay_world(sqlite_database, fake_upstream) as w:
        channel, _ = await _setup(w)
        body = (await w.root.get(f"/api/channel/test/{channel}?model={MODEL}")).json()
        assert body["success"] is True and body["message"] == REPLY, body
        assert fake_upstream.last.path == "/api/chat"
        body = (await w.root.get(f"/api/channel/test/{channel}?model={MISSING_MODEL}")).json()
        assert body["success"] is False
        assert body["message"] == f'http status code: 404, error message: model "{MISSING_MODEL}" not found, try pulling it first'


def _meta(**kw: object) -> RelayMeta:
    fields: dict = dict(
        mode=modes.CHAT,
        channel_type=30,
        channel_id=1,
        base_url="http://ollama:11434",
        api_key="k",
        config={},
        origin_model=MODEL,
        actual_model=MODEL,
        is_stream=False,
        request_path="/v1/chat/completions",
    )
    fields.update(kw)
    return RelayMeta(**fields)


def test_images_and_options_are_converted() -> None:
    png = base64.b64encode(b"\x89PNG fake").decode()
    body = {
        "model": MODEL,
        "num_ctx": 8192,
        "top_p": 0.5,
        "messages": [
            {
                "role": "user",
                "content": [
                    {"type": "text", "text": "What is this?"},
                    {"type": "image_url", "image_url": {"url": f"data:image/png;base64,{png}"}},
                ],
            }
        ],
    }
    sent = orjson.loads(OllamaAdaptor().build_request(_meta(), body, b"").body or b"")
    assert sent["messages"] == [{"role": "user", "content": "What is this?", "images": [png]}]
    assert sent["options"] == {"top_p": 0.5, "num_ctx": 8192}


def test_bad_embedding_input_is_a_400() -> None:
    with pytest.raises(RelayError) as caught:
        OllamaAdaptor().build_request(_meta(mode=modes.EMBEDDINGS), {"model": "m", "input": [1, 2]}, b"")
    assert caught.value.status == 400 and caught.value.code == "convert_request_failed"


TOOLS = [{"type": "function", "function": {"name": "lookup", "parameters": {"type": "object", "properties": {}}}}]


async def test_tool_calls_round_trip(sqlite_database, fake_upstream) -> None:
    async with relay_world(sqlite_database, fake_upstream) as w:
        _, token = await _setup(w)
        resp = await w.chat(token, model=MODEL, tools=TOOLS)
        assert resp.status_code == 200, resp.text
        choice = resp.json()["choices"][0]
        (call,) = choice["message"]["tool_calls"]
        assert call["id"].startswith("call_") and call["type"] == "function"
        assert call["function"] == {"name": "lookup", "arguments": orjson.dumps(TOOL_ARGUMENTS).decode()}
        assert choice["finish_reason"] == "tool_calls"
        assert fake_upstream.last.json()["tools"] == TOOLS

        history = [
            *CHAT,
            {"role": "assistant", "content": "", "tool_calls": [call]},
            {"role": "tool", "tool_call_id": call["id"], "content": '{"found": true}'},
        ]
        resp = await w.chat(token, model=MODEL, tools=TOOLS, messages=history)
        assert resp.json()["choices"][0]["message"]["content"] == REPLY
        sent = fake_upstream.last.json()["messages"]
        assert sent[1]["tool_calls"] == [{"function": {"name": "lookup", "arguments": TOOL_ARGUMENTS}}]
        assert sent[2] == {"role": "tool", "content": '{"found": true}'}

        resp = await w.chat(token, model=MODEL, tools=TOOLS, stream=True)
        chunks = [orjson.loads(p) for p in sse_payloads(resp.text)[:-1]]
        (streamed,) = [c for chunk in chunks for c in chunk["choices"][0]["delta"].get("tool_calls", [])]
        assert streamed["index"] == 0 and streamed["function"]["name"] == "lookup"
        assert chunks[-1]["choices"][0]["finish_reason"] == "tool_calls"
