"""AI Proxy's knowledge base (type 21) through a real master against the fake library API
(tests/fake_upstream/aiproxylibrary.py): the last message asked of the configured library (config
`library_id`, or the legacy `other` column), the reference documents appended, the stream, billing
on the counted reply (the API reports no usage), error mapping and the channel test."""

from __future__ import annotations

import orjson

from shared.billing import pricing, tokenizer
from shared.relay.adaptors.aiproxylibrary.convert import documents_text
from tests.fake_upstream.aiproxylibrary import DOCUMENTS, LIBRARY
from tests.fake_upstream.state import Canned
from tests.support.relay_kit import World, error_of, relay_world, sse_payloads

REPLY = Canned().reply_text
ANSWER = REPLY + documents_text(DOCUMENTS)
MODEL = "gpt-4o-mini"


async def _setup(w: World, **fields: str) -> tuple[int, dict]:
    fields = fields or {"config": orjson.dumps({"library_id": LIBRARY}).decode()}
    channel = await w.channel(type=21, key="aiproxy-key", models=MODEL, **fields)
    return channel, await w.token()


def test_documents_are_a_markdown_list() -> None:
    assert ANSWER == REPLY + ("\n\n参考文档：\n1. [Relay guide](https://docs.example/relay)\n2. [FAQ](https://docs.example/faq)\n")
    assert documents_text([]) == documents_text(None) == ""


async def test_ask_and_billing_on_the_counted_reply(sqlite_database, fake_upstream) -> None:
    async with relay_world(sqlite_database, fake_upstream) as w:
        channel, token = await _setup(w)
        resp = await w.chat(token, model=MODEL, messages=[{"role": "user", "content": "How do I relay?"}])
        assert resp.status_code == 200, resp.text
        assert resp.json()["choices"][0]["message"] == {"role": "assistant", "content": ANSWER}
        sent = fake_upstream.last
        assert sent.path == "/api/library/ask" and sent.headers["authorization"] == "Bearer aiproxy-key"
        assert sent.json() == {"model": MODEL, "query": "How do I relay?", "libraryId": LIBRARY, "stream": False}
        logs = await w.wait_for(w.consume_logs)
        row = logs[0]
        completion = tokenizer.count_text(ANSWER, MODEL, False)
        ratios = w.engine.ratios
        expected = pricing.text_quota(
            row["prompt_tokens"], completion, ratios.model_ratio(MODEL, 21), 1, ratios.completion_ratio(MODEL, 21)
        )
        assert (row["completion_tokens"], row["quota"], row["channel_id"]) == (completion, expected, channel)


async def test_stream_and_the_legacy_other_column(sqlite_database, fake_upstream) -> None:
    async with relay_world(sqlite_database, fake_upstream) as w:
        _, token = await _setup(w, other=LIBRARY)
        resp = await w.chat(token, model=MODEL, stream=True)
        assert resp.status_code == 200, resp.text
        assert fake_upstream.last.json()["libraryId"] == LIBRARY and fake_upstream.last.json()["stream"] is True
        payloads = sse_payloads(resp.text)
        assert payloads[-1] == "[DONE]"
        chunks = [orjson.loads(p) for p in payloads[:-1]]
        assert "".join(c["choices"][0]["delta"]["content"] for c in chunks) == ANSWER
        assert chunks[-1]["choices"][0]["finish_reason"] == "stop"
        logs = await w.wait_for(w.consume_logs)
        assert logs[0]["completion_tokens"] == tokenizer.count_text(ANSWER, MODEL, False)


async def test_errors_are_mapped(sqlite_database, fake_upstream) -> None:
    async with relay_world(sqlite_database, fake_upstream) as w:
        _, token = await _setup(w, config='{"library_id": "lib-unknown"}')
        resp = await w.chat(token, model=MODEL)
        assert resp.status_code == 500
        assert (error_of(resp)["type"], error_of(resp)["code"]) == ("aiproxy_library_error", 4004)
        assert error_of(resp)["message"].startswith("library not found")

        await w.root.put("/api/channel/", json={"id": 1, "config": orjson.dumps({"library_id": LIBRARY}).decode()})
        fake_upstream.fail_next("/api/library/ask", "401")
        resp = await w.chat(token, model=MODEL, stream=True)
        assert resp.status_code == 401
        assert (error_of(resp)["type"], error_of(resp)["code"]) == ("authentication_error", 4010)
        assert await w.consume_logs() == []


async def test_channel_test(sqlite_database, fake_upstream) -> None:
    async with relay_world(sqlite_database, fake_upstream) as w:
        channel, _ = await _setup(w)
        body = (await w.root.get(f"/api/channel/test/{channel}?model={MODEL}")).json()
        assert body["success"] is True and body["message"] == ANSWER, body
        unset, _ = await _setup(w, config="{}")
        body = (await w.root.get(f"/api/channel/test/{unset}?model={MODEL}")).json()
        assert body["success"] is False
        assert body["message"] == "get request url failed: the channel has no AI Proxy library ID"
