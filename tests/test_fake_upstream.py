"""The fake upstream itself, over real HTTP: canned answers, streams, failure injection, recording."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx
import orjson
import pytest

from tests.fake_upstream import FakeUpstream

CHAT = {"model": "gpt-4o", "messages": [{"role": "user", "content": "hi"}]}
USAGE = {"prompt_tokens": 17, "completion_tokens": 11, "total_tokens": 28}


@pytest.fixture
async def client(fake_upstream: FakeUpstream) -> httpx.AsyncClient:
    async with httpx.AsyncClient(base_url=fake_upstream.url, headers={"Authorization": "Bearer sk-good"}) as c:
        yield c


async def sse(client: httpx.AsyncClient, path: str, body: dict, **kw: object) -> list[bytes]:
    async with client.stream("POST", path, json=body, **kw) as resp:
        assert resp.status_code == 200 and resp.headers["content-type"].startswith("text/event-stream")
        return [line[6:].encode() async for line in resp.aiter_lines() if line.startswith("data: ")]


async def test_chat_answer_is_canned_and_recorded(fake_upstream: FakeUpstream, client: httpx.AsyncClient) -> None:
    resp = await client.post("/v1/chat/completions?trace=1", json=CHAT, headers={"X-Extra": "yes"})
    answer = resp.json()
    assert answer["choices"][0]["message"]["content"] == fake_upstream.state.canned.reply_text
    assert answer["usage"] == USAGE and answer["model"] == "gpt-4o"
    rec = fake_upstream.last
    assert (rec.method, rec.path, rec.query, rec.key, rec.behaviour) == (
        "POST",
        "/v1/chat/completions",
        "trace=1",
        "sk-good",
        "",
    )
    assert rec.headers["x-extra"] == "yes" and rec.json() == CHAT and rec.served_usage == USAGE


async def test_configure_changes_the_canned_answer(fake_upstream: FakeUpstream, client: httpx.AsyncClient) -> None:
    fake_upstream.configure(reply_text="one two", prompt_tokens=3, completion_tokens=2)
    answer = (await client.post("/v1/chat/completions", json=CHAT)).json()
    assert answer["choices"][0]["message"]["content"] == "one two" and answer["usage"]["total_tokens"] == 5


async def test_chat_stream_with_and_without_usage(fake_upstream: FakeUpstream, client: httpx.AsyncClient) -> None:
    words = fake_upstream.state.canned.words
    plain = await sse(client, "/v1/chat/completions", {**CHAT, "stream": True})
    assert plain[-1] == b"[DONE]" and len(plain) == len(words) + 3  # role chunk, words, finish chunk, [DONE]
    chunks = [orjson.loads(p) for p in plain[:-1]]
    assert "".join(c["choices"][0]["delta"].get("content", "") for c in chunks) == fake_upstream.state.canned.reply_text
    assert all("usage" not in c for c in chunks) and fake_upstream.last.served_usage is None

    asked = await sse(client, "/v1/chat/completions", {**CHAT, "stream": True, "stream_options": {"include_usage": True}})
    last = orjson.loads(asked[-2])
    assert last["choices"] == [] and last["usage"] == USAGE and fake_upstream.last.served_usage == USAGE

    fake_upstream.fail_next("/v1/chat/completions", "no_usage")
    refused = await sse(client, "/v1/chat/completions", {**CHAT, "stream": True, "stream_options": {"include_usage": True}})
    assert all(orjson.loads(p).get("usage") is None for p in refused[:-1])


async def test_tool_call_when_tools_are_offered(client: httpx.AsyncClient) -> None:
    tools = [{"type": "function", "function": {"name": "lookup", "parameters": {}}}]
    answer = (await client.post("/v1/chat/completions", json={**CHAT, "tools": tools})).json()
    assert answer["choices"][0]["finish_reason"] == "tool_calls"
    assert answer["choices"][0]["message"]["tool_calls"][0]["function"] == {
        "name": "lookup",
        "arguments": '{"query":"fake"}',
    }
    after = {
        **CHAT,
        "tools": tools,
        "messages": [*CHAT["messages"], {"role": "tool", "tool_call_id": "call_fake_0", "content": "x"}],
    }
    assert (await client.post("/v1/chat/completions", json=after)).json()["choices"][0]["finish_reason"] == "stop"


async def test_completions(fake_upstream: FakeUpstream, client: httpx.AsyncClient) -> None:
    body = {"model": "gpt-3.5-turbo-instruct", "prompt": "say"}
    assert (await client.post("/v1/completions", json=body)).json()["choices"][0]["text"] == fake_upstream.state.canned.reply_text
    events = await sse(client, "/v1/completions", {**body, "stream": True, "stream_options": {"include_usage": True}})
    assert orjson.loads(events[-2])["usage"] == USAGE
    assert "".join(orjson.loads(e)["choices"][0]["text"] for e in events[:-2]) == fake_upstream.state.canned.reply_text


async def test_other_openai_endpoints(client: httpx.AsyncClient) -> None:
    emb = (await client.post("/v1/embeddings", json={"model": "text-embedding-3-small", "input": ["a", "b"]})).json()
    assert len(emb["data"]) == 2 and emb["usage"] == {"prompt_tokens": 10, "total_tokens": 10}
    assert emb["data"][0]["embedding"] == (await client.post("/v1/embeddings", json={"input": "a"})).json()["data"][0]["embedding"]
    mod = (await client.post("/v1/moderations", json={"input": "text"})).json()
    assert mod["results"][0]["flagged"] is False
    images = (await client.post("/v1/images/generations", json={"prompt": "cat", "n": 2})).json()
    assert len(images["data"]) == 2 and images["data"][0]["url"].endswith(".png")
    b64 = (await client.post("/v1/images/generations", json={"prompt": "cat", "response_format": "b64_json"})).json()
    assert "b64_json" in b64["data"][0]
    speech = await client.post("/v1/audio/speech", json={"model": "tts-1", "input": "hello", "voice": "alloy"})
    assert speech.headers["content-type"] == "audio/mpeg" and speech.content.startswith(b"ID3")
    models = (await client.get("/v1/models")).json()
    assert "gpt-4o" in {m["id"] for m in models["data"]}


@pytest.mark.parametrize(
    "fmt, check",
    [
        ("json", lambda r: r.json() == {"text": "The quick brown fox jumps over the lazy dog."}),
        ("text", lambda r: r.text.strip() == "The quick brown fox jumps over the lazy dog."),
        ("srt", lambda r: "-->" in r.text and r.text.startswith("1\n")),
        ("vtt", lambda r: r.text.startswith("WEBVTT")),
        ("verbose_json", lambda r: r.json()["segments"][0]["text"].startswith("The quick")),
    ],
)
async def test_transcriptions(client: httpx.AsyncClient, fmt: str, check: object) -> None:
    for path in ("/v1/audio/transcriptions", "/v1/audio/translations"):
        resp = await client.post(
            path,
            data={"model": "whisper-1", "response_format": fmt},
            files={"file": ("a.mp3", b"ID3audio", "audio/mpeg")},
        )
        assert resp.status_code == 200 and check(resp)


async def test_azure_paths(fake_upstream: FakeUpstream) -> None:
    async with httpx.AsyncClient(base_url=fake_upstream.url, headers={"api-key": "azure-key"}) as client:
        events = await sse(client, "/openai/deployments/gpt-35-turbo/chat/completions?api-version=2024-02-01", {**CHAT, "stream": True})
        assert orjson.loads(events[0])["choices"] == []  # Azure's content-filter preamble
        resp = await client.post("/openai/deployments/emb/embeddings?api-version=2024-02-01", json={"input": "x"})
        assert resp.status_code == 200 and fake_upstream.last.key == "azure-key"
        assert fake_upstream.last.query == "api-version=2024-02-01"


async def test_other_openai_compatible_paths(client: httpx.AsyncClient) -> None:
    for path in (
        "/api/v3/chat/completions",
        "/v1/text/chatcompletion_v2",
        "/compatible-mode/v1/chat/completions",
        "/chat/completions",
    ):
        assert (await client.post(path, json=CHAT)).json()["object"] == "chat.completion"
    assert (await client.post("/nothing/here", json=CHAT)).status_code == 404


async def test_anthropic(fake_upstream: FakeUpstream) -> None:
    body = {"model": "claude-3-haiku-20240307", "max_tokens": 100, "messages": [{"role": "user", "content": "hi"}]}
    async with httpx.AsyncClient(base_url=fake_upstream.url, headers={"x-api-key": "ant-key"}) as client:
        answer = (await client.post("/v1/messages", json=body)).json()
        assert answer["content"][0]["text"] == fake_upstream.state.canned.reply_text
        assert answer["usage"] == {"input_tokens": 17, "output_tokens": 11} and fake_upstream.last.key == "ant-key"
        async with client.stream("POST", "/v1/messages", json={**body, "stream": True}) as resp:
            lines = [line async for line in resp.aiter_lines()]
        kinds = [line[7:] for line in lines if line.startswith("event: ")]
        assert kinds[:3] == ["message_start", "content_block_start", "ping"] and kinds[-3:] == [
            "content_block_stop",
            "message_delta",
            "message_stop",
        ]
        assert fake_upstream.last.served_usage == USAGE
        fake_upstream.fail_next("/v1/messages", "401")
        err = await client.post("/v1/messages", json=body)
        assert err.status_code == 401 and err.json() == {
            "type": "error",
            "error": {"type": "authentication_error", "message": "invalid x-api-key"},
        }


async def test_gemini(fake_upstream: FakeUpstream) -> None:
    body = {"contents": [{"role": "user", "parts": [{"text": "hi"}]}]}
    async with httpx.AsyncClient(base_url=fake_upstream.url, headers={"x-goog-api-key": "g-key"}) as client:
        answer = (await client.post("/v1/models/gemini-pro:generateContent", json=body)).json()
        assert answer["candidates"][0]["content"]["parts"][0]["text"] == fake_upstream.state.canned.reply_text
        assert answer["usageMetadata"]["totalTokenCount"] == 28 and fake_upstream.last.key == "g-key"
        events = await sse(client, "/v1beta/models/gemini-1.5-pro:streamGenerateContent?alt=sse", body)
        assert len(events) == len(fake_upstream.state.canned.words)
        assert orjson.loads(events[-1])["candidates"][0]["finishReason"] == "STOP"
        emb = (
            await client.post(
                "/v1/models/text-embedding-004:batchEmbedContents",
                json={"requests": [{"content": {"parts": [{"text": "a"}]}}] * 3},
            )
        ).json()
        assert len(emb["embeddings"]) == 3
        fake_upstream.fail_next("/v1/models/*", "429")
        err = await client.post("/v1/models/gemini-pro:generateContent", json=body)
        assert err.status_code == 429 and err.json()["error"]["status"] == "RESOURCE_EXHAUSTED"


@pytest.mark.parametrize(
    "kind, status, code",
    [
        ("500", 500, None),
        ("429", 429, "rate_limit_exceeded"),
        ("401", 401, "invalid_api_key"),
        ("400", 400, None),
        ("quota", 429, "insufficient_quota"),
        ("error200", 200, None),
    ],
)
async def test_fail_next_openai_errors(
    fake_upstream: FakeUpstream, client: httpx.AsyncClient, kind: str, status: int, code: str | None
) -> None:
    fake_upstream.fail_next("/v1/chat/completions", kind, count=2)
    for _ in range(2):
        resp = await client.post("/v1/chat/completions", json=CHAT)
        assert resp.status_code == status and resp.json()["error"]["code"] == code and resp.json()["error"]["message"]
        assert resp.headers["content-type"] == "application/json"
    assert (await client.post("/v1/chat/completions", json=CHAT)).status_code == 200
    assert [r.behaviour for r in fake_upstream.requests] == [kind, kind, ""]
    assert all(r.served_usage is None for r in fake_upstream.requests[:2])


async def test_error200_on_a_stream_request_answers_json(fake_upstream: FakeUpstream, client: httpx.AsyncClient) -> None:
    fake_upstream.fail_next("/v1/chat/completions", "error200")
    resp = await client.post("/v1/chat/completions", json={**CHAT, "stream": True})
    assert resp.status_code == 200 and resp.headers["content-type"] == "application/json" and "error" in resp.json()


async def test_behaviour_for_key(fake_upstream: FakeUpstream, client: httpx.AsyncClient) -> None:
    fake_upstream.behaviour_for_key("sk-bad", "401")
    for _ in range(2):
        assert (await client.post("/v1/chat/completions", json=CHAT, headers={"Authorization": "Bearer sk-bad"})).status_code == 401
    assert (await client.post("/v1/chat/completions", json=CHAT)).status_code == 200
    fake_upstream.behaviour_for_key("sk-bad", None)
    assert (await client.post("/v1/chat/completions", json=CHAT, headers={"Authorization": "Bearer sk-bad"})).status_code == 200
    with pytest.raises(ValueError):
        fake_upstream.behaviour_for_key("k", "explode")


async def test_slow(fake_upstream: FakeUpstream, client: httpx.AsyncClient) -> None:
    fake_upstream.fail_next("/v1/chat/completions", "slow", delay=0.3)
    started = time.monotonic()
    assert (await client.post("/v1/chat/completions", json=CHAT)).status_code == 200
    assert time.monotonic() - started >= 0.3
    with pytest.raises(httpx.ReadTimeout):
        fake_upstream.fail_next("/v1/chat/completions", "slow", delay=0.5)
        await client.post("/v1/chat/completions", json=CHAT, timeout=0.1)


async def test_cut_mid_stream(fake_upstream: FakeUpstream, client: httpx.AsyncClient) -> None:
    fake_upstream.fail_next("/v1/chat/completions", "cut", after=3)
    received: list[str] = []
    with pytest.raises(httpx.RemoteProtocolError):
        async with client.stream(
            "POST", "/v1/chat/completions", json={**CHAT, "stream": True, "stream_options": {"include_usage": True}}
        ) as resp:
            async for line in resp.aiter_lines():
                if line.startswith("data: "):
                    received.append(line)
    assert len(received) == 3 and fake_upstream.last.served_usage is None
    fake_upstream.fail_next("/v1/chat/completions", "cut")
    with pytest.raises(httpx.RemoteProtocolError):
        await client.post("/v1/chat/completions", json=CHAT)
    assert (await client.post("/v1/chat/completions", json=CHAT)).status_code == 200  # the server is fine


async def test_served_usage_total(fake_upstream: FakeUpstream, client: httpx.AsyncClient) -> None:
    await client.post("/v1/chat/completions", json=CHAT)
    fake_upstream.fail_next("/v1/chat/completions", "500")
    await client.post("/v1/chat/completions", json=CHAT)
    await sse(client, "/v1/chat/completions", {**CHAT, "stream": True, "stream_options": {"include_usage": True}})
    assert fake_upstream.served_usage_total() == {k: 2 * v for k, v in USAGE.items()}


async def test_http_control_endpoints(fake_upstream: FakeUpstream, client: httpx.AsyncClient) -> None:
    await client.post("/_fake/fail_next", json={"path": "/v1/embeddings", "kind": "500"})
    assert (await client.post("/v1/embeddings", json={"input": "x"})).status_code == 500
    await client.post("/_fake/key", json={"key": "sk-good", "kind": "429"})
    assert (await client.post("/v1/embeddings", json={"input": "x"})).status_code == 429
    await client.post("/_fake/configure", json={"reply_text": "via http"})
    seen = (await client.get("/_fake/requests")).json()
    assert [r["path"] for r in seen["requests"]] == ["/v1/embeddings", "/v1/embeddings"]
    assert fake_upstream.state.canned.reply_text == "via http"
    await client.post("/_fake/reset")
    assert fake_upstream.requests == [] and (await client.post("/v1/chat/completions", json=CHAT)).status_code == 200


def test_runs_standalone() -> None:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    root = Path(__file__).resolve().parent.parent
    env = {**os.environ, "PYTHONPATH": str(root)}
    proc = subprocess.Popen(
        [sys.executable, "-m", "tests.fake_upstream", "--port", str(port), "--log-level", "info"],
        cwd=root,
        env=env,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        for line in proc.stderr:  # wait for uvicorn's own "running" line rather than polling
            if "Uvicorn running on" in line:
                break
        resp = httpx.post(f"http://127.0.0.1:{port}/v1/chat/completions", json=CHAT, timeout=5)
        assert resp.status_code == 200 and resp.json()["usage"] == USAGE
    finally:
        proc.terminate()
        proc.wait(timeout=10)
