"""Cohere (type 35) through a real master against the fake Cohere chat API v1
(tests/fake_upstream/cohere.py): the message/chat_history conversion, the web-search connector,
NDJSON streams, billing from `meta.billed_units`, errors, and the channel test."""

from __future__ import annotations

import orjson

from shared.billing import pricing
from tests.fake_upstream.state import Canned
from tests.support.relay_kit import error_of, relay_world, sse_payloads

REPLY = Canned().reply_text
MODELS = "command-r,command-r-plus-internet"
HISTORY = [
    {"role": "system", "content": "Be brief."},
    {"role": "user", "content": "Hi"},
    {"role": "assistant", "content": "Hello."},
    {"role": "user", "content": [{"type": "text", "text": "Say hello to the relay tests."}]},
]


async def test_cohere_chat_stream_and_billing(sqlite_database, fake_upstream) -> None:
    async with relay_world(sqlite_database, fake_upstream) as w:
        await w.channel(type=35, key="cohere-secret", models=MODELS)
        token = await w.token()
        resp = await w.chat(token, model="command-r", messages=HISTORY, max_tokens=50, top_p=0.5)
        assert resp.status_code == 200, resp.text
        answer = resp.json()
        assert answer["object"] == "chat.completion" and answer["id"] == "chatcmpl-c0h3r3-resp"
        assert answer["choices"][0]["message"] == {"role": "assistant", "content": REPLY}
        assert answer["choices"][0]["finish_reason"] == "stop"
        assert answer["usage"] == {"prompt_tokens": 17, "completion_tokens": 11, "total_tokens": 28}
        req = fake_upstream.last
        assert req.path == "/v1/chat" and req.headers["authorization"] == "Bearer cohere-secret"
        assert req.json() == {
            "model": "command-r",
            "message": "Say hello to the relay tests.",
            "chat_history": [
                {"role": "SYSTEM", "message": "Be brief."},
                {"role": "USER", "message": "Hi"},
                {"role": "CHATBOT", "message": "Hello."},
            ],
            "max_tokens": 50,
            "p": 0.5,
        }

        resp = await w.chat(token, model="command-r-plus-internet", stream=True)
        assert resp.status_code == 200, resp.text
        payloads = sse_payloads(resp.text)
        assert payloads[-1] == "[DONE]" and payloads.count("[DONE]") == 1
        chunks = [orjson.loads(p) for p in payloads[:-1]]
        assert "".join(c["choices"][0]["delta"].get("content") or "" for c in chunks) == REPLY
        assert chunks[-1]["choices"][0]["finish_reason"] == "stop"
        sent = fake_upstream.last.json()
        assert sent["model"] == "command-r-plus" and sent["connectors"] == [{"id": "web-search"}] and sent["stream"] is True

        await w.flush()
        logs = await w.consume_logs()
        ratios = w.engine.ratios

        def quota(model: str) -> int:
            return pricing.text_quota(17, 11, ratios.model_ratio(model, 35), 1.0, ratios.completion_ratio(model, 35))

        # billed_units (17 in, 11 out), not `tokens` (which counts the prompt template too)
        assert [(r["model_name"], r["prompt_tokens"], r["completion_tokens"], r["quota"]) for r in logs] == [
            ("command-r", 17, 11, quota("command-r")),
            ("command-r-plus-internet", 17, 11, quota("command-r-plus-internet")),
        ]


async def test_cohere_errors(sqlite_database, fake_upstream) -> None:
    async with relay_world(sqlite_database, fake_upstream) as w:
        await w.channel(type=35, key="cohere-bad", models="command-r")
        token = await w.token()
        fake_upstream.behaviour_for_key("cohere-bad", "401")
        resp = await w.chat(token, model="command-r")
        assert resp.status_code == 401
        error = error_of(resp)
        assert error["message"].startswith("invalid api token") and error["code"] == "bad_response_status_code"
        fake_upstream.behaviour_for_key("cohere-bad", None)

        # A conversation with no user turn cannot be a Cohere request: a 400 of ours.
        resp = await w.chat(token, model="command-r", messages=[{"role": "system", "content": "x"}])
        assert resp.status_code == 400 and error_of(resp)["code"] == "convert_request_failed"

        # A stream that ends in ERROR: an OpenAI-shaped error event, billed for what arrived.
        fake_upstream.fail_next("/v1/chat", "stream_error", after=3)
        resp = await w.chat(token, model="command-r", stream=True)
        assert resp.status_code == 200
        payloads = sse_payloads(resp.text)
        assert orjson.loads(payloads[-2]) == {"error": {"message": "the model failed to generate", "type": "upstream_error"}}
        assert payloads[-1] == "[DONE]"
        await w.flush()
        assert [(r["prompt_tokens"], r["completion_tokens"]) for r in await w.consume_logs()] == [(17, 11)]


async def test_cohere_channel_test(sqlite_database, fake_upstream) -> None:
    async with relay_world(sqlite_database, fake_upstream) as w:
        good = await w.channel(type=35, key="cohere-secret", models="command-r", name="good")
        body = (await w.root.get(f"/api/channel/test/{good}")).json()
        assert body["success"] is True and body["message"] == REPLY, body
        assert fake_upstream.last.path == "/v1/chat"
        bad = await w.channel(type=35, key="cohere-bad", models="command-r", name="bad")
        fake_upstream.behaviour_for_key("cohere-bad", "401")
        body = (await w.root.get(f"/api/channel/test/{bad}")).json()
        assert body == {**body, "success": False}
        assert body["message"] == "http status code: 401, error message: invalid api token"


async def test_cohere_embeddings(sqlite_database, fake_upstream) -> None:
    model = "embed-english-v3.0"
    async with relay_world(sqlite_database, fake_upstream) as w:
        await w.channel(type=35, key="cohere-secret", models=model)
        token = await w.token()
        headers = {"Authorization": f"Bearer sk-{token['key']}"}
        resp = await w.root.post("/v1/embeddings", headers=headers, json={"model": model, "input": ["alpha", "beta"]})
        assert resp.status_code == 200, resp.text
        answer = resp.json()
        assert [d["index"] for d in answer["data"]] == [0, 1] and len(answer["data"][0]["embedding"]) == 8
        assert answer["usage"] == {"prompt_tokens": 10, "total_tokens": 10}
        req = fake_upstream.last
        assert req.path == "/v1/embed"
        assert req.json() == {"model": model, "texts": ["alpha", "beta"], "input_type": "search_document"}
        resp = await w.root.post("/v1/embeddings", headers=headers, json={"model": model, "input": [1, 2]})
        assert resp.status_code == 400 and error_of(resp)["code"] == "convert_request_failed"
        await w.flush()
        (log,) = await w.consume_logs()
        ratios = w.engine.ratios
        assert (log["prompt_tokens"], log["completion_tokens"]) == (10, 0)
        assert log["quota"] == pricing.text_quota(10, 0, ratios.model_ratio(model, 35), 1.0, ratios.completion_ratio(model, 35))
