"""Zhipu (channel type 16) through a real master against the fake BigModel API: the JWT from the
`id.secret` key, GLM v4 chat/stream/embeddings, the v3 model-api and its SSE framing, billing from
Zhipu's usage, error mapping and the channel test."""

from __future__ import annotations

import base64

import orjson
import pytest

from shared.relay.adaptors.zhipu import jwt
from shared.relay.types import RelayError
from tests.fake_upstream import zhipu as fake_zhipu
from tests.fake_upstream.state import Canned
from tests.support.relay_kit import World, error_of, relay_world, sse_payloads

REPLY = Canned().reply_text
MODELS = "glm-4,chatglm_turbo,embedding-2"


async def _setup(w: World, key: str = fake_zhipu.KEY) -> tuple[int, dict]:
    w.fake.configure(prompt_tokens=40, completion_tokens=9)
    for model in ("glm-4", "chatglm_turbo", "embedding-2"):
        await w.ratio("ModelRatio", model, 1)
        await w.ratio("CompletionRatio", model, 2)
    channel = await w.channel(type=16, key=key, models=MODELS)
    return channel, await w.token()


def _stream_text(text: str) -> str:
    payloads = sse_payloads(text)
    assert payloads[-1] == "[DONE]" and payloads.count("[DONE]") == 1
    chunks = [orjson.loads(p) for p in payloads[:-1]]
    return "".join(c["choices"][0]["delta"].get("content") or "" for c in chunks if c.get("choices"))


def _jwt_claims(token: str) -> tuple[dict, dict]:
    header, payload, _ = token.split(".")
    decode = lambda part: orjson.loads(base64.urlsafe_b64decode(part + "=" * (-len(part) % 4)))  # noqa: E731
    return decode(header), decode(payload)


async def test_glm_v4_chat_stream_and_billing(sqlite_database, fake_upstream) -> None:
    async with relay_world(sqlite_database, fake_upstream) as w:
        await _setup(w)
        token = await w.token()
        resp = await w.chat(token, model="glm-4", temperature=1.7, top_p=1.5)
        assert resp.status_code == 200, resp.text
        answer = resp.json()
        assert answer["choices"][0]["message"]["content"] == REPLY
        assert answer["usage"] == {"prompt_tokens": 40, "completion_tokens": 9, "total_tokens": 49}
        req = fake_upstream.last
        assert req.path == "/api/paas/v4/chat/completions"
        header, claims = _jwt_claims(req.headers["authorization"])
        assert header == {"alg": "HS256", "sign_type": "SIGN"} and claims["api_key"] == "fakezhipuid"
        assert claims["exp"] - claims["timestamp"] == 24 * 3600 * 1000
        sent = req.json()
        assert (sent["model"], sent["temperature"], sent["top_p"]) == ("glm-4", 1, 1)  # clamped to [0, 1]

        resp = await w.chat(token, model="glm-4", stream=True)
        assert resp.status_code == 200
        assert _stream_text(resp.text) == REPLY
        assert fake_upstream.last.json()["stream"] is True

        logs = await w.wait_for(lambda: _logs(w, 2))
        # ratio 1, completion ratio 2: 40 + 9 × 2 = 58, from Zhipu's usage (the stream's last chunk too)
        assert [(r["prompt_tokens"], r["completion_tokens"], r["quota"]) for r in logs] == [(40, 9, 58)] * 2


async def _logs(w: World, count: int) -> list | None:
    logs = await w.consume_logs()
    return logs if len(logs) >= count else None


async def test_v3_model_api_invoke_and_sse(sqlite_database, fake_upstream) -> None:
    async with relay_world(sqlite_database, fake_upstream) as w:
        _, token = await _setup(w)
        resp = await w.chat(token, model="chatglm_turbo", temperature=0.5)
        assert resp.status_code == 200, resp.text
        answer = resp.json()
        assert answer["object"] == "chat.completion" and answer["model"] == "chatglm_turbo"
        assert answer["choices"][0]["message"] == {"role": "assistant", "content": REPLY}  # v3's quotes removed
        req = fake_upstream.last
        assert req.path == "/api/paas/v3/model-api/chatglm_turbo/invoke"
        sent = req.json()
        assert sent["prompt"] == [{"role": "user", "content": "Say hello to the relay tests."}]
        assert sent["temperature"] == 0.5 and "messages" not in sent

        resp = await w.chat(token, model="chatglm_turbo", stream=True)
        assert resp.status_code == 200
        assert _stream_text(resp.text) == REPLY
        assert fake_upstream.last.path == "/api/paas/v3/model-api/chatglm_turbo/sse-invoke"
        finish = [orjson.loads(p) for p in sse_payloads(resp.text)[:-1]][-1]
        assert finish["choices"][0]["finish_reason"] == "stop"

        logs = await w.wait_for(lambda: _logs(w, 2))
        assert [(r["prompt_tokens"], r["completion_tokens"], r["quota"]) for r in logs] == [(40, 9, 58)] * 2


async def test_embeddings_take_one_input(sqlite_database, fake_upstream) -> None:
    async with relay_world(sqlite_database, fake_upstream) as w:
        _, token = await _setup(w)
        headers = {"Authorization": f"Bearer sk-{token['key']}"}
        resp = await w.root.post("/v1/embeddings", headers=headers, json={"model": "embedding-2", "input": ["hello"]})
        assert resp.status_code == 200, resp.text
        assert len(resp.json()["data"][0]["embedding"]) == 8
        assert fake_upstream.last.path == "/api/paas/v4/embeddings"
        assert fake_upstream.last.json() == {"model": "embedding-2", "input": "hello"}
        resp = await w.root.post("/v1/embeddings", headers=headers, json={"model": "embedding-2", "input": ["a", "b"]})
        assert resp.status_code == 400
        assert error_of(resp)["message"].startswith("Zhipu embeddings take exactly one input")
        logs = await w.wait_for(lambda: _logs(w, 1))
        assert (logs[0]["prompt_tokens"], logs[0]["quota"]) == (5, 5)


async def test_cogview_images(sqlite_database, fake_upstream) -> None:
    async with relay_world(sqlite_database, fake_upstream) as w:
        await w.channel(type=16, key=fake_zhipu.KEY, models="cogview-3")
        token = await w.token()
        resp = await w.root.post(
            "/v1/images/generations",
            headers={"Authorization": f"Bearer sk-{token['key']}"},
            json={"model": "cogview-3", "prompt": "a lighthouse", "size": "1024x1024", "user": "u1"},
        )
        assert resp.status_code == 200, resp.text
        assert resp.json()["data"] == [{"url": "https://fake.bigmodel.cn/cogview/fake.png"}]
        req = fake_upstream.last
        assert req.path == "/api/paas/v4/images/generations"
        assert req.json() == {"model": "cogview-3", "prompt": "a lighthouse", "user_id": "u1"}
        assert fake_zhipu.token_valid(req.headers["authorization"])


async def test_errors_are_mapped(sqlite_database, fake_upstream) -> None:
    async with relay_world(sqlite_database, fake_upstream) as w:
        _, token = await _setup(w, key="fakezhipuid.wrong-secret")
        resp = await w.chat(token, model="glm-4")
        assert resp.status_code == 401
        error = error_of(resp)
        assert error["code"] == "1002" and error["message"].startswith("Authorization Token非法")
        resp = await w.chat(token, model="chatglm_turbo")  # v3 answers errors with HTTP 200
        assert resp.status_code == 401
        assert error_of(resp)["type"] == "authentication_error" and error_of(resp)["code"] == 1002
        resp = await w.chat(token, model="chatglm_turbo", stream=True)  # the same JSON to a stream
        assert resp.status_code == 401 and error_of(resp)["code"] == 1002


async def test_injected_server_error_is_passed_on_and_refunded(sqlite_database, fake_upstream) -> None:
    async with relay_world(sqlite_database, fake_upstream) as w:
        _, token = await _setup(w)
        fake_upstream.fail_next("/api/paas/v4/chat/completions", "500")
        resp = await w.chat(token, model="glm-4")
        assert resp.status_code == 500
        assert error_of(resp)["message"].startswith("Internal Error") and error_of(resp)["code"] == "500"
        await w.flush()
        assert await w.consume_logs() == []  # a failed attempt is refunded, never billed


def test_malformed_key_is_refused_before_any_call() -> None:
    with pytest.raises(RelayError) as caught:
        jwt.split_key("no-dot-here")
    assert caught.value.status == 401 and "id.secret" in caught.value.message
    assert jwt.token_for(fake_zhipu.KEY) == jwt.token_for(fake_zhipu.KEY)  # cached until it nears expiry
    assert fake_zhipu.token_valid(jwt.token_for(fake_zhipu.KEY))


async def test_channel_test(sqlite_database, fake_upstream) -> None:
    async with relay_world(sqlite_database, fake_upstream) as w:
        good, _ = await _setup(w)
        body = (await w.root.get(f"/api/channel/test/{good}?model=glm-4")).json()
        assert body["success"] is True and body["message"] == REPLY, body
        body = (await w.root.get(f"/api/channel/test/{good}?model=chatglm_turbo")).json()
        assert body["success"] is True and body["message"] == REPLY, body
        bad = await w.channel(type=16, key="fakezhipuid.wrong", models="glm-4", name="bad")
        body = (await w.root.get(f"/api/channel/test/{bad}")).json()
        assert body["success"] is False
        assert body["message"].startswith("http status code: 401, error message: Authorization Token非法")
