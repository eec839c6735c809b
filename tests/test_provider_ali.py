"""Ali DashScope (channel type 17) through a real master against the fake DashScope API: the native
text-generation body and its SSE (`X-DashScope-SSE`), the plugin header from the channel config,
embeddings, billing from DashScope's usage, error mapping and the channel test."""

from __future__ import annotations

import orjson

from tests.fake_upstream import ali as fake_ali
from tests.fake_upstream.state import Canned
from tests.support.relay_kit import World, error_of, relay_world, sse_payloads

REPLY = Canned().reply_text
MODELS = "qwen-max,qwen-max-internet,text-embedding-v1"


async def _setup(w: World, key: str = fake_ali.KEY, **fields: str) -> tuple[int, dict]:
    w.fake.configure(prompt_tokens=40, completion_tokens=9)
    for model in ("qwen-max", "qwen-max-internet", "text-embedding-v1"):
        await w.ratio("ModelRatio", model, 1)
        await w.ratio("CompletionRatio", model, 2)
    channel = await w.channel(type=17, key=key, models=MODELS, **fields)
    return channel, await w.token()


async def _logs(w: World, count: int) -> list | None:
    logs = await w.consume_logs()
    return logs if len(logs) >= count else None


def _chunks(text: str) -> list[dict]:
    payloads = sse_payloads(text)
    assert payloads[-1] == "[DONE]" and payloads.count("[DONE]") == 1
    return [orjson.loads(p) for p in payloads[:-1]]


async def test_chat_stream_plugin_and_billing(sqlite_database, fake_upstream) -> None:
    async with relay_world(sqlite_database, fake_upstream) as w:
        _, token = await _setup(w, config='{"plugin": "{\\"pdf_extracter\\": {}}"}')
        messages = [{"role": "System", "content": "Be brief."}, {"role": "user", "content": [{"type": "text", "text": "Hi"}]}]
        resp = await w.chat(token, model="qwen-max", messages=messages, top_p=1, max_tokens=64, seed=7)
        assert resp.status_code == 200, resp.text
        answer = resp.json()
        assert answer["object"] == "chat.completion"
        assert answer["choices"][0] == {"index": 0, "message": {"role": "assistant", "content": REPLY}, "finish_reason": "stop"}
        assert answer["usage"] == {"prompt_tokens": 40, "completion_tokens": 9, "total_tokens": 49}
        req = fake_upstream.last
        assert req.path == "/api/v1/services/aigc/text-generation/generation"
        assert req.headers["authorization"] == f"Bearer {fake_ali.KEY}"
        assert req.headers["x-dashscope-plugin"] == '{"pdf_extracter": {}}'
        assert "x-dashscope-sse" not in req.headers
        sent = req.json()
        assert sent["model"] == "qwen-max"
        assert sent["input"]["messages"] == [{"role": "system", "content": "Be brief."}, {"role": "user", "content": "Hi"}]
        assert sent["parameters"] == {
            "result_format": "message",
            "incremental_output": False,
            "top_p": 0.9999,
            "max_tokens": 64,
            "seed": 7,
        }

        resp = await w.chat(token, model="qwen-max", stream=True)
        assert resp.status_code == 200
        chunks = _chunks(resp.text)
        assert "".join(c["choices"][0]["delta"].get("content") or "" for c in chunks) == REPLY
        assert chunks[-1]["choices"][0]["finish_reason"] == "stop"
        req = fake_upstream.last
        assert req.headers["x-dashscope-sse"] == "enable" and req.headers["accept"] == "text/event-stream"
        assert req.json()["parameters"]["incremental_output"] is True

        logs = await w.wait_for(lambda: _logs(w, 2))
        # DashScope's usage (input 40, output 9) at ratio 1, completion ratio 2: 40 + 18 = 58
        assert [(r["prompt_tokens"], r["completion_tokens"], r["quota"]) for r in logs] == [(40, 9, 58)] * 2


async def test_internet_suffix_turns_on_search(sqlite_database, fake_upstream) -> None:
    async with relay_world(sqlite_database, fake_upstream) as w:
        _, token = await _setup(w)
        resp = await w.chat(token, model="qwen-max-internet")
        assert resp.status_code == 200, resp.text
        sent = fake_upstream.last.json()
        assert sent["model"] == "qwen-max" and sent["parameters"]["enable_search"] is True


async def test_embeddings(sqlite_database, fake_upstream) -> None:
    async with relay_world(sqlite_database, fake_upstream) as w:
        _, token = await _setup(w)
        resp = await w.root.post(
            "/v1/embeddings",
            headers={"Authorization": f"Bearer sk-{token['key']}"},
            json={"model": "text-embedding-v1", "input": ["one", "two"]},
        )
        assert resp.status_code == 200, resp.text
        answer = resp.json()
        assert [d["index"] for d in answer["data"]] == [0, 1] and len(answer["data"][0]["embedding"]) == 8
        assert answer["usage"] == {"prompt_tokens": 10, "completion_tokens": 0, "total_tokens": 10}
        assert fake_upstream.last.path == "/api/v1/services/embeddings/text-embedding/text-embedding"
        assert fake_upstream.last.json() == {"model": "text-embedding-v1", "input": {"texts": ["one", "two"]}}
        logs = await w.wait_for(lambda: _logs(w, 1))
        assert (logs[0]["prompt_tokens"], logs[0]["quota"]) == (10, 10)


async def test_errors_are_mapped(sqlite_database, fake_upstream) -> None:
    async with relay_world(sqlite_database, fake_upstream) as w:
        _, token = await _setup(w, key="sk-wrong")
        resp = await w.chat(token, model="qwen-max")
        assert resp.status_code == 401
        assert error_of(resp)["message"].startswith("Invalid API-key provided.")
        assert error_of(resp)["code"] == "InvalidApiKey" and error_of(resp)["type"] == "authentication_error"
        resp = await w.chat(token, model="qwen-max", stream=True)
        assert resp.status_code == 401 and error_of(resp)["code"] == "InvalidApiKey"


async def test_error_in_a_200_body_is_an_error_and_refunded(sqlite_database, fake_upstream) -> None:
    async with relay_world(sqlite_database, fake_upstream) as w:
        _, token = await _setup(w)
        fake_upstream.fail_next(fake_ali.CHAT_PATH, "error200")  # an error body with HTTP 200
        resp = await w.chat(token, model="qwen-max")
        assert resp.status_code == 500
        error = error_of(resp)
        assert error["code"] == "InternalError" and error["message"].startswith("An internal error has occured.")
        await w.flush()
        assert await w.consume_logs() == []


async def test_channel_test(sqlite_database, fake_upstream) -> None:
    async with relay_world(sqlite_database, fake_upstream) as w:
        good, _ = await _setup(w)
        body = (await w.root.get(f"/api/channel/test/{good}?model=qwen-max")).json()
        assert body["success"] is True and body["message"] == REPLY, body
        bad = await w.channel(type=17, key="sk-wrong", models="qwen-max", name="bad")
        body = (await w.root.get(f"/api/channel/test/{bad}")).json()
        assert body["success"] is False
        assert body["message"] == "http status code: 401, error message: Invalid API-key provided."
