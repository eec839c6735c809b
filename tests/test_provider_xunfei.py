"""Xunfei Spark (channel type 18) through a real master against the fake Spark WebSocket service:
the signed URL from `APPID|APISecret|APIKey`, the API version from the model or the channel's
config, chat and stream from frames, billing from Spark's usage, error mapping (a refused
handshake, an error frame) and the channel test."""

from __future__ import annotations

import orjson
import pytest

from shared.billing import tokenizer
from shared.relay.adaptors.xunfei import auth
from tests.fake_upstream import xunfei as fake_xunfei
from tests.fake_upstream.state import Canned
from tests.support.relay_kit import World, error_of, relay_world, sse_payloads

REPLY = Canned().reply_text
MODELS = "Spark-Max,Spark-Pro-128K,SparkDesk"


async def _setup(w: World, key: str = fake_xunfei.KEY, **fields: str) -> tuple[int, dict]:
    w.fake.configure(prompt_tokens=40, completion_tokens=9)
    for model in MODELS.split(","):
        await w.ratio("ModelRatio", model, 1)
        await w.ratio("CompletionRatio", model, 2)
    channel = await w.channel(type=18, key=key, models=MODELS, **fields)
    return channel, await w.token()


async def _logs(w: World, count: int) -> list | None:
    logs = await w.consume_logs()
    return logs if len(logs) >= count else None


@pytest.mark.parametrize(
    ("model", "configured", "version", "domain"),
    [
        ("Spark-Lite", "", "v1.1", "lite"),
        ("Spark-Max", "v2.1", "v3.5", "generalv3.5"),
        ("Spark-Pro-128K", "", "v3.1-128K", "pro-128k"),
        ("Spark-4.0-Ultra", "", "v4.0", "4.0Ultra"),
        ("SparkDesk-v2.1", "", "v2.1", "generalv2"),
        ("SparkDesk", "v3.1", "v3.1", "generalv3"),
        ("SparkDesk", "", "v1.1", "lite"),
    ],
)
def test_version_and_domain(model: str, configured: str, version: str, domain: str) -> None:
    assert auth.api_version(model, configured) == version
    assert auth.domain(version) == domain


def test_signed_url_shape() -> None:
    url = auth.signed_url("", "v3.1-128K", "key", "secret", 1700000000)
    assert url.startswith("wss://spark-api.xf-yun.com/chat/pro-128k?authorization=")
    assert "date=Tue%2C+14+Nov+2023+22%3A13%3A20+GMT" in url and url.endswith("&host=spark-api.xf-yun.com")
    assert auth.signed_url("https://proxy.example/", "v3.5", "k", "s", 0).startswith("wss://proxy.example/v3.5/chat?")
    assert auth.signed_url("http://127.0.0.1:8080", "v3.5", "k", "s", 0).startswith("ws://127.0.0.1:8080/v3.5/chat?")


async def test_chat_stream_and_billing(sqlite_database, fake_upstream) -> None:
    async with relay_world(sqlite_database, fake_upstream) as w:
        _, token = await _setup(w)
        resp = await w.chat(token, model="Spark-Max", temperature=0.5, max_tokens=128, user="u1")
        assert resp.status_code == 200, resp.text
        answer = resp.json()
        assert answer["choices"][0] == {"index": 0, "message": {"role": "assistant", "content": REPLY}, "finish_reason": "stop"}
        assert answer["usage"] == {"prompt_tokens": 40, "completion_tokens": 9, "total_tokens": 49}
        req = fake_upstream.last
        assert req.path == "/v3.5/chat"
        assert req.json() == {
            "header": {"app_id": "fakeappid", "uid": "u1"},
            "parameter": {"chat": {"domain": "generalv3.5", "temperature": 0.5, "max_tokens": 128}},
            "payload": {"message": {"text": [{"role": "user", "content": "Say hello to the relay tests."}]}},
        }

        resp = await w.chat(token, model="Spark-Pro-128K", stream=True)
        assert resp.status_code == 200
        payloads = sse_payloads(resp.text)
        assert payloads[-1] == "[DONE]" and payloads.count("[DONE]") == 1
        chunks = [orjson.loads(p) for p in payloads[:-1]]
        assert "".join(c["choices"][0]["delta"]["content"] for c in chunks) == REPLY
        assert chunks[-1]["choices"][0]["finish_reason"] == "stop"
        assert fake_upstream.last.path == "/chat/pro-128k"

        logs = await w.wait_for(lambda: _logs(w, 2))
        # Spark's usage (40 + 9) at ratio 1, completion ratio 2: 58
        assert [(r["prompt_tokens"], r["completion_tokens"], r["quota"]) for r in logs] == [(40, 9, 58)] * 2


async def test_api_version_from_config(sqlite_database, fake_upstream) -> None:
    async with relay_world(sqlite_database, fake_upstream) as w:
        _, token = await _setup(w, config='{"api_version": "v4.0"}')
        resp = await w.chat(token, model="SparkDesk")
        assert resp.status_code == 200, resp.text
        assert fake_upstream.last.path == "/v4.0/chat"
        assert fake_upstream.last.json()["parameter"]["chat"]["domain"] == "4.0Ultra"


async def test_refused_handshake_is_an_auth_error(sqlite_database, fake_upstream) -> None:
    async with relay_world(sqlite_database, fake_upstream) as w:
        _, token = await _setup(w, key="fakeappid|wrong-secret|fakespark-api-key")
        resp = await w.chat(token, model="Spark-Max")
        assert resp.status_code == 401
        error = error_of(resp)
        assert error["message"].startswith("HMAC signature does not match") and error["type"] == "authentication_error"
        resp = await w.chat(token, model="Spark-Max", stream=True)
        assert resp.status_code == 401
        assert fake_upstream.requests == []  # refused before any frame
        await w.flush()
        assert await w.consume_logs() == []


async def test_error_frames_are_mapped(sqlite_database, fake_upstream) -> None:
    async with relay_world(sqlite_database, fake_upstream) as w:
        _, token = await _setup(w)
        fake_upstream.fail_next("/v3.5/chat", "error200")
        resp = await w.chat(token, model="Spark-Max")
        assert resp.status_code == 400
        assert error_of(resp)["code"] == 10013 and error_of(resp)["message"].startswith("input content is not compliant")
        fake_upstream.fail_next("/v3.5/chat", "401")
        resp = await w.chat(token, model="Spark-Max", stream=True)  # before any byte reached the client
        assert resp.status_code == 401 and error_of(resp)["code"] == 11200
        await w.flush()
        assert await w.consume_logs() == []


async def test_a_dropped_connection_bills_what_arrived(sqlite_database, fake_upstream) -> None:
    async with relay_world(sqlite_database, fake_upstream) as w:
        _, token = await _setup(w)
        fake_upstream.fail_next("/v3.5/chat", "cut", after=3)
        resp = await w.chat(token, model="Spark-Max", stream=True)
        assert resp.status_code == 200
        payloads = sse_payloads(resp.text)
        assert payloads[-1] == "[DONE]"
        text = "".join(orjson.loads(p)["choices"][0]["delta"]["content"] for p in payloads[:-1])
        assert text == "".join(Canned().words[:3])
        logs = await w.wait_for(lambda: _logs(w, 1))
        # no usage frame arrived: the prompt estimate plus the counted text is billed
        assert logs[0]["completion_tokens"] == tokenizer.count_text(text, "Spark-Max") and logs[0]["quota"] > 0
        fake_upstream.fail_next("/v3.5/chat", "cut", after=3)
        resp = await w.chat(token, model="Spark-Max")  # not streamed: nothing was sent, a refund
        assert resp.status_code == 500 and "Spark connection ended" in error_of(resp)["message"]


async def test_channel_test(sqlite_database, fake_upstream) -> None:
    async with relay_world(sqlite_database, fake_upstream) as w:
        good, _ = await _setup(w)
        body = (await w.root.get(f"/api/channel/test/{good}?model=Spark-Max")).json()
        assert body["success"] is True and body["message"] == REPLY, body
        bad = await w.channel(type=18, key="fakeappid|wrong|fakespark-api-key", models="Spark-Max", name="bad")
        body = (await w.root.get(f"/api/channel/test/{bad}")).json()
        assert body["success"] is False
        assert body["message"] == "http status code: 401, error message: HMAC signature does not match"
