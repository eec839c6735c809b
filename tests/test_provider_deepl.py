"""DeepL (type 38) through a real master against the fake DeepL (tests/fake_upstream/deepl.py): the
last user message translated into the model's language, the stream as one chunk, billing from
DeepL's billed characters, error mapping (403, 456) and the channel test."""

from __future__ import annotations

import math

import orjson

from shared.relay.adaptors.deepl.convert import target_language
from tests.fake_upstream.deepl import translated
from tests.support.relay_kit import World, error_of, relay_world, sse_payloads

SOURCE = "Good morning, translator."
MESSAGES = [
    {"role": "system", "content": "ignored"},
    {"role": "user", "content": "earlier turn"},
    {"role": "assistant", "content": "earlier answer"},
    {"role": "user", "content": SOURCE},
]
DEEPL_RATIO = 12.5  # One API's ratio for deepl-*: characters at $25 per million


async def _setup(w: World, key: str = "deepl-secret:fx") -> tuple[int, dict]:
    channel = await w.channel(type=38, key=key, models="deepl-zh,deepl-ja,deepl-en-us")
    return channel, await w.token()


async def test_translate_and_bill_billed_characters(sqlite_database, fake_upstream) -> None:
    async with relay_world(sqlite_database, fake_upstream) as w:
        channel, token = await _setup(w)
        resp = await w.chat(token, model="deepl-ja", messages=MESSAGES)
        assert resp.status_code == 200, resp.text
        answer = resp.json()
        assert answer["object"] == "chat.completion" and answer["model"] == "deepl-ja"
        assert answer["choices"][0]["message"] == {"role": "assistant", "content": translated(SOURCE, "JA")}
        assert answer["choices"][0]["finish_reason"] == "stop"
        assert answer["usage"] == {"prompt_tokens": len(SOURCE), "completion_tokens": 0, "total_tokens": len(SOURCE)}
        sent = fake_upstream.last
        assert sent.path == "/v2/translate" and sent.headers["authorization"] == "DeepL-Auth-Key deepl-secret:fx"
        assert sent.json() == {"text": [SOURCE], "target_lang": "JA", "show_billed_characters": True}
        logs = await w.wait_for(w.consume_logs)
        assert [(r["prompt_tokens"], r["completion_tokens"], r["quota"], r["channel_id"]) for r in logs] == [
            (len(SOURCE), 0, math.ceil(len(SOURCE) * DEEPL_RATIO), channel)
        ]

        resp = await w.chat(token, model="deepl-en-us", messages=MESSAGES)  # a regional target
        assert fake_upstream.last.json()["target_lang"] == "EN-US"
        assert resp.json()["choices"][0]["message"]["content"] == translated(SOURCE, "EN-US")


async def test_stream_is_one_chunk(sqlite_database, fake_upstream) -> None:
    async with relay_world(sqlite_database, fake_upstream) as w:
        _, token = await _setup(w)
        resp = await w.chat(token, model="deepl-zh", messages=MESSAGES, stream=True)
        assert resp.status_code == 200 and resp.headers["content-type"].startswith("text/event-stream")
        payloads = sse_payloads(resp.text)
        assert len(payloads) == 2 and payloads[-1] == "[DONE]"
        chunk = orjson.loads(payloads[0])
        assert chunk["object"] == "chat.completion.chunk" and chunk["model"] == "deepl-zh"
        assert chunk["choices"][0]["delta"] == {"role": "assistant", "content": translated(SOURCE, "ZH")}
        assert chunk["choices"][0]["finish_reason"] == "stop"
        assert "stream" not in fake_upstream.last.json()
        logs = await w.wait_for(w.consume_logs)
        assert (logs[0]["prompt_tokens"], logs[0]["quota"], logs[0]["is_stream"]) == (
            len(SOURCE),
            math.ceil(len(SOURCE) * DEEPL_RATIO),
            True,
        )


async def test_errors_are_mapped(sqlite_database, fake_upstream) -> None:
    async with relay_world(sqlite_database, fake_upstream) as w:
        await w.option("AutomaticDisableChannelEnabled", "true")
        channel, token = await _setup(w)
        resp = await w.root.post(  # a mode DeepL lacks
            "/v1/embeddings", headers={"Authorization": f"Bearer sk-{token['key']}"}, json={"model": "deepl-zh", "input": "x"}
        )
        assert resp.status_code == 500 and error_of(resp)["code"] == "do_request_failed"
        fake_upstream.fail_next("/v2/translate", "quota")  # 456 Quota Exceeded: a spent balance
        resp = await w.chat(token, model="deepl-zh", messages=MESSAGES)
        assert resp.status_code == 456
        error = error_of(resp)
        assert error["message"].startswith("Quota Exceeded") and error["type"] == "insufficient_quota"
        assert (await w.wait_for(lambda: _status(w, channel))) == 3  # auto-disabled

        bad, _ = await _setup(w, key="deepl-other:fx")
        fake_upstream.behaviour_for_key("DeepL-Auth-Key deepl-other:fx", "401")
        resp = await w.chat(token, f"-{bad}", model="deepl-zh", messages=MESSAGES)
        assert resp.status_code == 403 and error_of(resp)["type"] == "authentication_error"


async def _status(w: World, channel: int) -> int | None:
    status = (await w.channel_row(channel))["status"]
    return status if status != 1 else None


async def test_channel_test(sqlite_database, fake_upstream) -> None:
    async with relay_world(sqlite_database, fake_upstream) as w:
        channel, _ = await _setup(w)
        body = (await w.root.get(f"/api/channel/test/{channel}?model=deepl-zh")).json()
        prompt = w.app.state.relay.ctx.settings.test_prompt
        assert body["success"] is True and body["message"] == translated(prompt, "ZH"), body
        fake_upstream.fail_next("/v2/translate", "401")
        body = (await w.root.get(f"/api/channel/test/{channel}?model=deepl-zh")).json()
        assert body == {**body, "success": False, "message": "http status code: 403, error message: Forbidden"}


def test_target_language_from_the_model() -> None:
    assert [target_language(m) for m in ("deepl-zh", "deepl-ja", "deepl-en-gb", "deepl", "deepl-")] == [
        "ZH",
        "JA",
        "EN-GB",
        "ZH",
        "ZH",
    ]
