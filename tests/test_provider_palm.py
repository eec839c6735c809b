"""PaLM 2 (type 11) through a real master against the fake PaLM API (tests/fake_upstream/palm.py):
generateMessage, a stream request answered as one chunk (PaLM has none), billing on the prompt
estimate plus the counted reply (PaLM reports no usage), errors, and the channel test."""

from __future__ import annotations

import orjson

from shared.billing import pricing, tokenizer
from tests.fake_upstream import palm as fake_palm
from tests.fake_upstream.state import Canned
from tests.support.relay_kit import CHAT, error_of, relay_world, sse_payloads

REPLY = Canned().reply_text
MODEL = "PaLM-2"


async def test_palm_chat_one_chunk_stream_and_billing(sqlite_database, fake_upstream) -> None:
    async with relay_world(sqlite_database, fake_upstream) as w:
        await w.channel(type=11, key="palm-secret", models=MODEL)
        token = await w.token()
        messages = [{"role": "system", "content": "Be brief."}, *CHAT]
        resp = await w.chat(token, model=MODEL, messages=messages, temperature=0.2)
        assert resp.status_code == 200, resp.text
        answer = resp.json()
        assert answer["choices"] == [{"index": 0, "message": {"role": "assistant", "content": REPLY}, "finish_reason": "stop"}]
        req = fake_upstream.last
        assert req.path == fake_palm.PATH and req.headers["x-goog-api-key"] == "palm-secret"
        assert req.json() == {
            "prompt": {"messages": [{"author": "0", "content": CHAT[0]["content"]}], "context": "Be brief."},
            "temperature": 0.2,
        }
        prompt = await tokenizer.count_messages(messages, MODEL)
        completion = tokenizer.count_text(REPLY, MODEL)
        assert answer["usage"] == {"prompt_tokens": prompt, "completion_tokens": completion, "total_tokens": prompt + completion}

        resp = await w.chat(token, model=MODEL, messages=messages, stream=True)
        assert resp.status_code == 200, resp.text
        assert resp.headers["content-type"].startswith("text/event-stream")
        payloads = sse_payloads(resp.text)
        assert payloads[-1] == "[DONE]" and len(payloads) == 2
        chunk = orjson.loads(payloads[0])
        assert chunk["object"] == "chat.completion.chunk"
        assert chunk["choices"][0]["delta"]["content"] == REPLY and chunk["choices"][0]["finish_reason"] == "stop"

        await w.flush()
        ratios = w.engine.ratios
        quota = pricing.text_quota(prompt, completion, ratios.model_ratio(MODEL, 11), 1.0, ratios.completion_ratio(MODEL, 11))
        logs = await w.consume_logs()
        assert [(r["prompt_tokens"], r["completion_tokens"], r["quota"], r["is_stream"]) for r in logs] == [
            (prompt, completion, quota, False),
            (prompt, completion, quota, True),
        ]


async def test_palm_errors(sqlite_database, fake_upstream) -> None:
    async with relay_world(sqlite_database, fake_upstream) as w:
        await w.channel(type=11, key="palm-secret", models=MODEL)
        token = await w.token()
        fake_upstream.fail_next(fake_palm.PATH, "401")
        resp = await w.chat(token, model=MODEL)
        assert resp.status_code == 401
        assert error_of(resp)["type"] == "authentication_error"
        assert error_of(resp)["message"].startswith("API key not valid.")

        blocked = [{"role": "user", "content": "something [blocked]"}]
        resp = await w.chat(token, model=MODEL, messages=blocked)
        assert resp.status_code == 400
        assert error_of(resp)["code"] == "content_filtered" and "OTHER" in error_of(resp)["message"]

        resp = await w.chat(token, model=MODEL, messages=blocked, stream=True)
        assert resp.status_code == 200  # the stream had begun: the error is its one event
        payloads = sse_payloads(resp.text)
        assert orjson.loads(payloads[0])["error"]["code"] == "content_filtered" and payloads[-1] == "[DONE]"

        resp = await w.root.post(
            "/v1/embeddings", headers={"Authorization": f"Bearer sk-{token['key']}"}, json={"model": MODEL, "input": "x"}
        )
        assert resp.status_code == 500 and error_of(resp)["code"] == "do_request_failed"  # One API: unsupported relay mode


async def test_palm_channel_test(sqlite_database, fake_upstream) -> None:
    async with relay_world(sqlite_database, fake_upstream) as w:
        good = await w.channel(type=11, key="palm-secret", models=MODEL, name="good")
        body = (await w.root.get(f"/api/channel/test/{good}")).json()
        assert body["success"] is True and body["message"] == REPLY, body
        fake_upstream.fail_next(fake_palm.PATH, "401")
        body = (await w.root.get(f"/api/channel/test/{good}")).json()
        assert body["success"] is False and body["message"].startswith("http status code: 401, error message: API key not valid.")
