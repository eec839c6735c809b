"""Tencent Hunyuan (channel type 23) through a real master against the fake Hunyuan API: the
TC3-HMAC-SHA256 signature from `AppId|SecretId|SecretKey`, ChatCompletions (JSON and SSE),
GetEmbedding, billing from Hunyuan's usage, error mapping and the channel test."""

from __future__ import annotations

import orjson

from shared.relay.adaptors.tencent import sign
from tests.fake_upstream import tencent as fake_tencent
from tests.fake_upstream.state import Canned
from tests.support.relay_kit import World, error_of, relay_world, sse_payloads

REPLY = Canned().reply_text
MODELS = "hunyuan-lite,hunyuan-embedding"


async def _setup(w: World, key: str = fake_tencent.KEY) -> tuple[int, dict]:
    w.fake.configure(prompt_tokens=40, completion_tokens=9)
    for model in MODELS.split(","):
        await w.ratio("ModelRatio", model, 1)
        await w.ratio("CompletionRatio", model, 2)
    channel = await w.channel(type=23, key=key, models=MODELS)
    return channel, await w.token()


async def _logs(w: World, count: int) -> list | None:
    logs = await w.consume_logs()
    return logs if len(logs) >= count else None


def test_signature_shape() -> None:
    header = sign.authorization("AKIDx", "secret", "hunyuan.tencentcloudapi.com", "hunyuan", b"{}", 1700000000)
    assert header.startswith("TC3-HMAC-SHA256 Credential=AKIDx/2023-11-14/hunyuan/tc3_request, SignedHeaders=content-type;host, Signature=")
    assert header != sign.authorization("AKIDx", "secret", "hunyuan.tencentcloudapi.com", "hunyuan", b"{ }", 1700000000)


async def test_chat_stream_and_billing(sqlite_database, fake_upstream) -> None:
    async with relay_world(sqlite_database, fake_upstream) as w:
        _, token = await _setup(w)
        resp = await w.chat(token, model="hunyuan-lite", temperature=0.3, top_p=0.8)
        assert resp.status_code == 200, resp.text
        answer = resp.json()
        assert answer["choices"][0] == {"index": 0, "message": {"role": "assistant", "content": REPLY}, "finish_reason": "stop"}
        assert answer["usage"] == {"prompt_tokens": 40, "completion_tokens": 9, "total_tokens": 49}
        req = fake_upstream.last
        assert (req.path, req.headers["x-tc-action"], req.headers["x-tc-version"]) == ("/", "ChatCompletions", "2023-09-01")
        assert req.json() == {
            "Model": "hunyuan-lite",
            "Messages": [{"Role": "user", "Content": "Say hello to the relay tests."}],
            "Stream": False,
            "Temperature": 0.3,
            "TopP": 0.8,
        }

        resp = await w.chat(token, model="hunyuan-lite", stream=True)
        assert resp.status_code == 200
        payloads = sse_payloads(resp.text)
        assert payloads[-1] == "[DONE]" and payloads.count("[DONE]") == 1
        chunks = [orjson.loads(p) for p in payloads[:-1]]
        assert "".join(c["choices"][0]["delta"]["content"] for c in chunks) == REPLY
        assert chunks[-1]["choices"][0]["finish_reason"] == "stop"

        logs = await w.wait_for(lambda: _logs(w, 2))
        # Hunyuan's usage (40 + 9) at ratio 1, completion ratio 2: 58, the stream's last event too
        assert [(r["prompt_tokens"], r["completion_tokens"], r["quota"]) for r in logs] == [(40, 9, 58)] * 2


async def test_embeddings(sqlite_database, fake_upstream) -> None:
    async with relay_world(sqlite_database, fake_upstream) as w:
        _, token = await _setup(w)
        resp = await w.root.post(
            "/v1/embeddings",
            headers={"Authorization": f"Bearer sk-{token['key']}"},
            json={"model": "hunyuan-embedding", "input": ["a", "b"]},
        )
        assert resp.status_code == 200, resp.text
        assert resp.json()["usage"] == {"prompt_tokens": 10, "completion_tokens": 0, "total_tokens": 10}
        assert [d["index"] for d in resp.json()["data"]] == [0, 1]
        assert fake_upstream.last.headers["x-tc-action"] == "GetEmbedding"
        assert fake_upstream.last.json() == {"InputList": ["a", "b"]}


async def test_errors_are_mapped(sqlite_database, fake_upstream) -> None:
    async with relay_world(sqlite_database, fake_upstream) as w:
        _, token = await _setup(w, key="1300000000|AKIDfakehunyuan|wrong-secret")
        resp = await w.chat(token, model="hunyuan-lite")  # Tencent refuses with HTTP 200
        assert resp.status_code == 401
        error = error_of(resp)
        assert error["code"] == "AuthFailure.SignatureFailure" and error["type"] == "authentication_error"
        resp = await w.chat(token, model="hunyuan-lite", stream=True)  # a JSON answer to a stream
        assert resp.status_code == 401 and error_of(resp)["code"] == "AuthFailure.SignatureFailure"


async def test_malformed_key_is_refused_before_any_call(sqlite_database, fake_upstream) -> None:
    async with relay_world(sqlite_database, fake_upstream) as w:
        _, token = await _setup(w, key="missing-parts")
        sent = len(fake_upstream.requests)
        resp = await w.chat(token, model="hunyuan-lite")
        assert resp.status_code == 401 and "AppId|SecretId|SecretKey" in error_of(resp)["message"]
        assert len(fake_upstream.requests) == sent  # refused before any call
        await w.flush()
        assert await w.consume_logs() == []


async def test_channel_test(sqlite_database, fake_upstream) -> None:
    async with relay_world(sqlite_database, fake_upstream) as w:
        good, _ = await _setup(w)
        body = (await w.root.get(f"/api/channel/test/{good}?model=hunyuan-lite")).json()
        assert body["success"] is True and body["message"] == REPLY, body
        bad = await w.channel(type=23, key="1|AKIDfakehunyuan|wrong", models="hunyuan-lite", name="bad")
        body = (await w.root.get(f"/api/channel/test/{bad}")).json()
        assert body["success"] is False
        assert body["message"].startswith("The provided credentials could not be validated.")
