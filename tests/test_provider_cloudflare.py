"""Cloudflare Workers AI (type 37) through a real master against the fake Workers AI
(tests/fake_upstream/cloudflare.py): account-scoped OpenAI-compatible chat and embeddings, the
native /run/{model} for completions (whole and streamed), billing from the reported usage, the API
envelope's errors and the channel test."""

from __future__ import annotations

import orjson
import pytest

from shared.relay import modes
from shared.relay.adaptors.cloudflare.request import request_url
from shared.relay.types import RelayError, RelayMeta
from tests.fake_upstream.state import Canned
from tests.support.relay_kit import World, error_of, relay_world, sse_payloads

REPLY = Canned().reply_text
ACCOUNT = "0123456789abcdef0123456789abcdef"
MODEL = "@cf/meta/llama-3-8b-instruct"
PREFIX = f"/client/v4/accounts/{ACCOUNT}/ai"


async def _setup(w: World, account: str = ACCOUNT, name: str = "cf") -> tuple[int, dict]:
    channel = await w.channel(
        type=37,
        name=name,
        key="cf-api-token",
        config=orjson.dumps({"user_id": account}).decode(),
        models=f"{MODEL},@cf/baai/bge-base-en-v1.5",
    )
    await w.ratio("ModelRatio", MODEL, 1)
    await w.ratio("CompletionRatio", MODEL, 3)
    return channel, await w.token()


def _auth(token: dict) -> dict[str, str]:
    return {"Authorization": f"Bearer sk-{token['key']}"}


async def test_chat_embeddings_and_billing(sqlite_database, fake_upstream) -> None:
    async with relay_world(sqlite_database, fake_upstream) as w:
        channel, token = await _setup(w)
        resp = await w.chat(token, model=MODEL)
        assert resp.status_code == 200, resp.text
        assert resp.json()["choices"][0]["message"]["content"] == REPLY
        assert resp.json()["usage"] == {"prompt_tokens": 17, "completion_tokens": 11, "total_tokens": 28}
        sent = fake_upstream.last
        assert sent.path == f"{PREFIX}/v1/chat/completions" and sent.headers["authorization"] == "Bearer cf-api-token"
        logs = await w.wait_for(w.consume_logs)
        assert [(r["prompt_tokens"], r["completion_tokens"], r["quota"], r["channel_id"]) for r in logs] == [(17, 11, 17 + 11 * 3, channel)]

        resp = await w.chat(token, model=MODEL, stream=True)
        payloads = sse_payloads(resp.text)
        assert payloads[-1] == "[DONE]"
        assert fake_upstream.last.json()["stream_options"] == {"include_usage": True}
        text = "".join(c["choices"][0]["delta"].get("content") or "" for c in map(orjson.loads, payloads[:-1]) if c["choices"])
        assert text == REPLY

        resp = await w.root.post("/v1/embeddings", headers=_auth(token), json={"model": "@cf/baai/bge-base-en-v1.5", "input": "hi"})
        assert resp.status_code == 200 and resp.json()["data"][0]["object"] == "embedding"
        assert fake_upstream.last.path == f"{PREFIX}/v1/embeddings"


async def test_completions_use_the_native_run_api(sqlite_database, fake_upstream) -> None:
    async with relay_world(sqlite_database, fake_upstream) as w:
        _, token = await _setup(w)
        body = {"model": MODEL, "prompt": "Once upon a time", "max_tokens": 30}
        resp = await w.root.post("/v1/completions", headers=_auth(token), json=body)
        assert resp.status_code == 200, resp.text
        answer = resp.json()
        assert answer["object"] == "text_completion" and answer["choices"][0]["text"] == REPLY
        assert answer["usage"] == {"prompt_tokens": 17, "completion_tokens": 11, "total_tokens": 28}
        sent = fake_upstream.last
        assert sent.path == f"{PREFIX}/run/{MODEL}"
        assert sent.json() == {"prompt": "Once upon a time", "max_tokens": 30}

        resp = await w.root.post("/v1/completions", headers=_auth(token), json={**body, "stream": True})
        payloads = sse_payloads(resp.text)
        assert payloads[-1] == "[DONE]" and payloads.count("[DONE]") == 1
        chunks = [orjson.loads(p) for p in payloads[:-1]]
        assert all(c["object"] == "text_completion" for c in chunks)
        assert "".join(c["choices"][0]["text"] for c in chunks) == REPLY
        assert chunks[-1]["choices"][0]["finish_reason"] == "stop"
        logs = await w.wait_for(lambda: _two(w))
        assert (logs[1]["prompt_tokens"], logs[1]["completion_tokens"], logs[1]["quota"], logs[1]["is_stream"]) == (
            17,
            11,
            50,
            True,
        )


async def _two(w: World) -> list | None:
    logs = await w.consume_logs()
    return logs if len(logs) == 2 else None


async def test_envelope_errors_are_mapped(sqlite_database, fake_upstream) -> None:
    async with relay_world(sqlite_database, fake_upstream) as w:
        _, token = await _setup(w, account="not-an-account")
        resp = await w.chat(token, model=MODEL)
        assert resp.status_code == 404
        error = error_of(resp)
        assert error["message"].startswith("Could not route to /client/v4/accounts/not-an-account/ai/v1/chat/completions")
        assert (error["type"], error["code"]) == ("cloudflare_error", 7003)

        await w.root.put("/api/channel/", json={"id": 1, "config": orjson.dumps({"user_id": ACCOUNT}).decode()})
        fake_upstream.fail_next(f"{PREFIX}/run/*", "401")
        resp = await w.root.post("/v1/completions", headers=_auth(token), json={"model": MODEL, "prompt": "x"})
        assert resp.status_code == 401
        assert (error_of(resp)["type"], error_of(resp)["code"]) == ("authentication_error", 10000)
        assert error_of(resp)["message"].startswith("Authentication error")


async def test_channel_test(sqlite_database, fake_upstream) -> None:
    async with relay_world(sqlite_database, fake_upstream) as w:
        channel, _ = await _setup(w)
        body = (await w.root.get(f"/api/channel/test/{channel}?model={MODEL}")).json()
        assert body["success"] is True and body["message"] == REPLY, body
        assert fake_upstream.last.path == f"{PREFIX}/v1/chat/completions"
        missing, _ = await _setup(w, account="", name="no-account")
        body = (await w.root.get(f"/api/channel/test/{missing}?model={MODEL}")).json()
        assert body["success"] is False
        assert body["message"] == "get request url failed: the channel has no Cloudflare account ID"


def _meta(mode: int, base_url: str = "https://api.cloudflare.com", model: str = MODEL) -> RelayMeta:
    return RelayMeta(
        mode=mode,
        channel_type=37,
        channel_id=1,
        base_url=base_url,
        api_key="t",
        config={"user_id": ACCOUNT},
        origin_model=model,
        actual_model=model,
        is_stream=False,
        request_path="/v1/completions",
    )


def test_urls_for_the_api_and_an_ai_gateway() -> None:
    gateway = "https://gateway.ai.cloudflare.com/v1/acc/gw/workers-ai"
    assert request_url(_meta(modes.COMPLETIONS)) == f"https://api.cloudflare.com{PREFIX}/run/{MODEL}"
    assert request_url(_meta(modes.COMPLETIONS, gateway)) == f"{gateway}/{MODEL}"
    assert request_url(_meta(modes.CHAT, gateway)) == f"{gateway}/v1/chat/completions"
    assert request_url(_meta(modes.COMPLETIONS, model="@cf/a?b#c")).endswith("/run/@cf/a%3Fb%23c")
    for bad in ("@cf/../../user/tokens", "", "@cf//x"):
        with pytest.raises(RelayError) as caught:
            request_url(_meta(modes.COMPLETIONS, model=bad))
        assert caught.value.status == 400
    with pytest.raises(RelayError) as caught:
        request_url(_meta(modes.IMAGES))
    assert caught.value.code == "do_request_failed"
