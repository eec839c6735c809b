"""Baidu ERNIE (channel type 15) through a real master against the fake Qianfan API: the access
token exchanged from `APIKey|SecretKey` and cached, the model -> endpoint table, chat, stream,
embeddings, billing from Baidu's usage, error mapping (a revoked token is fetched anew) and the
channel test."""

from __future__ import annotations

import orjson

from shared.relay.adaptors.baidu import token as baidu_token
from shared.relay.adaptors.baidu.convert import endpoint
from tests.fake_upstream import baidu as fake_baidu
from tests.fake_upstream.state import Canned
from tests.support.relay_kit import World, error_of, relay_world, sse_payloads

REPLY = Canned().reply_text
MODELS = "ERNIE-4.0-8K,ERNIE-Speed-8K,Embedding-V1"


async def _setup(w: World, key: str = fake_baidu.KEY) -> tuple[int, dict]:
    baidu_token.forget(key)
    w.fake.configure(prompt_tokens=40, completion_tokens=9)
    for model in MODELS.split(","):
        await w.ratio("ModelRatio", model, 1)
        await w.ratio("CompletionRatio", model, 2)
    channel = await w.channel(type=15, key=key, models=MODELS)
    return channel, await w.token()


async def _logs(w: World, count: int) -> list | None:
    logs = await w.consume_logs()
    return logs if len(logs) >= count else None


def _exchanges(fake) -> list:
    return [r for r in fake.requests if r.path == "/oauth/2.0/token"]


def test_endpoint_table() -> None:
    assert endpoint("ERNIE-4.0-8K") == "completions_pro"
    assert endpoint("ERNIE-3.5-8K") == "completions"
    assert endpoint("ERNIE-Speed-8K") == "ernie_speed"
    assert endpoint("Embedding-V1") == "embedding-v1"
    assert endpoint("ERNIE-Custom-Model") == "ernie-custom-model"


async def test_chat_stream_token_cache_and_billing(sqlite_database, fake_upstream) -> None:
    async with relay_world(sqlite_database, fake_upstream) as w:
        _, token = await _setup(w)
        messages = [{"role": "system", "content": "Be brief."}, {"role": "user", "content": "Hi"}]
        resp = await w.chat(token, model="ERNIE-4.0-8K", messages=messages, max_tokens=64, frequency_penalty=1.2)
        assert resp.status_code == 200, resp.text
        answer = resp.json()
        assert answer["choices"][0] == {"index": 0, "message": {"role": "assistant", "content": REPLY}, "finish_reason": "stop"}
        assert answer["usage"] == {"prompt_tokens": 40, "completion_tokens": 9, "total_tokens": 49}
        exchange = _exchanges(fake_upstream)
        assert len(exchange) == 1
        assert "client_id=fake-baidu-ak" in exchange[0].query and "client_secret=fake-baidu-sk" in exchange[0].query
        req = fake_upstream.last
        assert req.path == "/rpc/2.0/ai_custom/v1/wenxinworkshop/chat/completions_pro"
        assert req.query.startswith("access_token=24.fake")
        assert req.json() == {
            "messages": [{"role": "user", "content": "Hi"}],
            "stream": False,
            "system": "Be brief.",
            "penalty_score": 1.2,
            "max_output_tokens": 64,
        }

        resp = await w.chat(token, model="ERNIE-Speed-8K", stream=True)
        assert resp.status_code == 200
        payloads = sse_payloads(resp.text)
        assert payloads[-1] == "[DONE]" and payloads.count("[DONE]") == 1
        chunks = [orjson.loads(p) for p in payloads[:-1]]
        assert "".join(c["choices"][0]["delta"]["content"] for c in chunks) == REPLY
        assert chunks[-1]["choices"][0]["finish_reason"] == "stop"
        assert fake_upstream.last.path.endswith("/chat/ernie_speed")
        assert len(_exchanges(fake_upstream)) == 1  # the token was cached

        logs = await w.wait_for(lambda: _logs(w, 2))
        assert [(r["prompt_tokens"], r["completion_tokens"], r["quota"]) for r in logs] == [(40, 9, 58)] * 2


async def test_embeddings(sqlite_database, fake_upstream) -> None:
    async with relay_world(sqlite_database, fake_upstream) as w:
        _, token = await _setup(w)
        resp = await w.root.post(
            "/v1/embeddings",
            headers={"Authorization": f"Bearer sk-{token['key']}"},
            json={"model": "Embedding-V1", "input": "one"},
        )
        assert resp.status_code == 200, resp.text
        assert resp.json()["usage"] == {"prompt_tokens": 5, "completion_tokens": 0, "total_tokens": 5}
        assert len(resp.json()["data"][0]["embedding"]) == 8
        assert fake_upstream.last.path == "/rpc/2.0/ai_custom/v1/wenxinworkshop/embeddings/embedding-v1"
        assert fake_upstream.last.json() == {"input": ["one"]}


async def test_revoked_token_is_refetched_and_errors_are_mapped(sqlite_database, fake_upstream) -> None:
    async with relay_world(sqlite_database, fake_upstream) as w:
        _, token = await _setup(w)
        assert (await w.chat(token, model="ERNIE-4.0-8K")).status_code == 200
        fake_baidu.revoke_all()
        resp = await w.chat(token, model="ERNIE-4.0-8K")  # Baidu says 110: a new token, the call again
        assert resp.status_code == 200, resp.text
        assert len(_exchanges(fake_upstream)) == 2
        fake_baidu.revoke_all()
        resp = await w.chat(token, model="ERNIE-4.0-8K", stream=True)  # the same for a stream
        assert resp.status_code == 200 and sse_payloads(resp.text)[-1] == "[DONE]"
        assert len(_exchanges(fake_upstream)) == 3
        chat_path = "/rpc/2.0/ai_custom/v1/wenxinworkshop/chat/completions_pro"
        fake_upstream.fail_next(chat_path, "401", count=2)  # refused with the fresh token too
        resp = await w.chat(token, model="ERNIE-4.0-8K")
        assert resp.status_code == 401
        error = error_of(resp)
        assert error["code"] == 110 and error["message"].startswith("Access token invalid or no longer valid")
        fake_upstream.fail_next(chat_path, "400", count=1)
        resp = await w.chat(token, model="ERNIE-4.0-8K", stream=True)  # JSON with HTTP 200 to a stream
        assert resp.status_code == 400 and error_of(resp)["code"] == 336003
        fake_upstream.fail_next("/rpc/2.0/ai_custom/v1/wenxinworkshop/chat/completions_pro", "quota")
        resp = await w.chat(token, model="ERNIE-4.0-8K")
        assert resp.status_code == 429 and error_of(resp)["code"] == 17


async def test_refused_exchange_is_an_auth_error(sqlite_database, fake_upstream) -> None:
    async with relay_world(sqlite_database, fake_upstream) as w:
        _, token = await _setup(w, key="fake-baidu-ak|wrong-secret")
        resp = await w.chat(token, model="ERNIE-4.0-8K")
        assert resp.status_code == 401
        assert error_of(resp)["message"].startswith("Baidu access token: Client authentication failed")
        assert not fake_upstream.last.path.startswith("/rpc/")  # no API call without a token
        await w.flush()
        assert await w.consume_logs() == []


async def test_channel_test(sqlite_database, fake_upstream) -> None:
    async with relay_world(sqlite_database, fake_upstream) as w:
        good, _ = await _setup(w)
        body = (await w.root.get(f"/api/channel/test/{good}?model=ERNIE-4.0-8K")).json()
        assert body["success"] is True and body["message"] == REPLY, body
        bad = await w.channel(type=15, key="fake-baidu-ak|wrong", models="ERNIE-4.0-8K", name="bad")
        body = (await w.root.get(f"/api/channel/test/{bad}")).json()
        assert body["success"] is False
        assert body["message"] == "Baidu access token: Client authentication failed"
        malformed = await w.channel(type=15, key="no-separator", models="ERNIE-4.0-8K", name="malformed")
        body = (await w.root.get(f"/api/channel/test/{malformed}")).json()
        assert body["success"] is False and "APIKey|SecretKey" in body["message"]
