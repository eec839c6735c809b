"""Coze (type 34) through a real master against the fake Coze (tests/fake_upstream/coze.py): the bot
chat API v2 (bot id from the model, query and chat history), only `answer` messages relayed, the
`data:` stream, billing on the counted reply (Coze v2 reports no usage), `{code, msg}` failures
mapped to statuses, and the channel test."""

from __future__ import annotations

import orjson

from shared.billing import pricing, tokenizer
from shared.relay.adaptors.coze.convert import coze_error
from tests.fake_upstream.coze import FAIL_MID_STREAM
from tests.fake_upstream.state import Canned
from tests.support.relay_kit import World, error_of, relay_world, sse_payloads

REPLY = Canned().reply_text
BOT = "bot-7342011223344556677"
MESSAGES = [
    {"role": "user", "content": "Who are you?"},
    {"role": "assistant", "content": "A bot."},
    {"role": "user", "content": "Say hello."},
]


async def _setup(w: World, config: str = '{"user_id": "operator-1"}') -> tuple[int, dict]:
    channel = await w.channel(type=34, key="pat_coze_secret", config=config, models=f"{BOT},bot-not-a-bot")
    await w.ratio("ModelRatio", BOT, 1)
    await w.ratio("CompletionRatio", BOT, 2)
    return channel, await w.token()


async def test_chat_and_billing_on_the_counted_reply(sqlite_database, fake_upstream) -> None:
    async with relay_world(sqlite_database, fake_upstream) as w:
        channel, token = await _setup(w)
        resp = await w.chat(token, model=BOT, messages=MESSAGES)
        assert resp.status_code == 200, resp.text
        answer = resp.json()
        assert answer["id"] == "chatcmpl-7381234567890123456" and answer["model"] == BOT
        assert answer["choices"][0]["message"] == {"role": "assistant", "content": REPLY}  # no follow-up
        sent = fake_upstream.last
        assert sent.path == "/open_api/v2/chat" and sent.headers["authorization"] == "Bearer pat_coze_secret"
        assert sent.json() == {
            "bot_id": "7342011223344556677",
            "user": "operator-1",
            "query": "Say hello.",
            "stream": False,
            "chat_history": [
                {"role": "user", "content": "Who are you?", "content_type": "text"},
                {"role": "assistant", "content": "A bot.", "content_type": "text", "type": "answer"},
            ],
        }
        logs = await w.wait_for(w.consume_logs)
        completion = tokenizer.count_text(REPLY, BOT, False)
        prompt = logs[0]["prompt_tokens"]
        assert prompt > 0 and logs[0]["completion_tokens"] == completion
        assert logs[0]["quota"] == pricing.text_quota(prompt, completion, 1, 1, 2) and logs[0]["channel_id"] == channel


async def test_stream(sqlite_database, fake_upstream) -> None:
    async with relay_world(sqlite_database, fake_upstream) as w:
        _, token = await _setup(w, config="{}")
        resp = await w.chat(token, model=BOT, messages=MESSAGES, stream=True, user="client-7")
        assert resp.status_code == 200 and resp.headers["content-type"].startswith("text/event-stream")
        assert fake_upstream.last.json()["user"] == "client-7" and fake_upstream.last.json()["stream"] is True
        payloads = sse_payloads(resp.text)
        assert payloads[-1] == "[DONE]"
        chunks = [orjson.loads(p) for p in payloads[:-1]]
        assert "".join(c["choices"][0]["delta"].get("content", "") for c in chunks) == REPLY
        assert chunks[-1]["choices"][0]["finish_reason"] == "stop"
        logs = await w.wait_for(w.consume_logs)
        assert logs[0]["completion_tokens"] == tokenizer.count_text(REPLY, BOT, False) and logs[0]["is_stream"] is True

        resp = await w.chat(token, model=BOT, messages=[{"role": "user", "content": FAIL_MID_STREAM}], stream=True)
        payloads = sse_payloads(resp.text)
        error = orjson.loads(payloads[-2])["error"]
        assert (error["message"], error["code"], payloads[-1]) == ("Server internal error", 5000, "[DONE]")


async def test_failures_are_mapped_to_statuses(sqlite_database, fake_upstream) -> None:
    async with relay_world(sqlite_database, fake_upstream) as w:
        _, token = await _setup(w)
        resp = await w.chat(token, model="bot-not-a-bot", messages=MESSAGES)
        assert resp.status_code == 400
        assert error_of(resp)["message"].startswith("Requested resource not found: bot not-a-bot does not exist")
        assert (error_of(resp)["type"], error_of(resp)["code"]) == ("coze_error", 4200)

        fake_upstream.fail_next("/open_api/v2/chat", "401")  # Coze answers HTTP 200 {"code": 4101}
        resp = await w.chat(token, model=BOT, messages=MESSAGES, stream=True)
        assert resp.status_code == 401
        assert (error_of(resp)["type"], error_of(resp)["code"]) == ("authentication_error", 4101)
        assert await w.consume_logs() == []


async def test_channel_test(sqlite_database, fake_upstream) -> None:
    async with relay_world(sqlite_database, fake_upstream) as w:
        channel, _ = await _setup(w)
        body = (await w.root.get(f"/api/channel/test/{channel}?model={BOT}")).json()
        assert body["success"] is True and body["message"] == REPLY, body
        fake_upstream.fail_next("/open_api/v2/chat", "401")
        body = (await w.root.get(f"/api/channel/test/{channel}?model={BOT}")).json()
        assert body["success"] is False and body["message"].startswith("The token you entered is incorrect")


def test_failure_codes_become_statuses() -> None:
    assert [(e.status, e.type) for e in map(lambda c: coze_error(c, "m"), (4101, 700012006, 4013, 4200, 5000, None))] == [
        (401, "authentication_error"),
        (401, "authentication_error"),
        (429, "rate_limit_error"),
        (400, "coze_error"),
        (500, "coze_error"),
        (500, "coze_error"),
    ]
