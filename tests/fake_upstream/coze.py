"""The fake Coze bot API v2: POST /open_api/v2/chat.

What Coze checks: a Bearer personal access token (code 4100 without one), a `bot_id` of digits that
names a published bot (4200 otherwise), a `user`, a `query` and a well-formed `chat_history`
(4000). Failures come as HTTP 200 with `{"code": N, "msg": ...}`; the stream is SSE written
`data:{...}` (no space) with `message` events, of which only `answer` ones are the reply, then a
`done` event, or an `error` event carrying `error_information`."""

from __future__ import annotations

from typing import Any

import orjson
from starlette.responses import Response

from tests.fake_upstream.common import Call, json_response, sse_response

CONVERSATION = "7381234567890123456"
FAIL_MID_STREAM = "fail mid-stream"  # a query the fake answers with one word and then an error event
ERRORS: dict[str, tuple[int, int, str]] = {
    "500": (200, 5000, "Server internal error"),
    "429": (200, 4013, "The requests exceed the rate limit"),
    "401": (200, 4101, "The token you entered is incorrect. Please double-check and try again."),
    "400": (200, 4000, "The request parameter is invalid"),
    "quota": (200, 4028, "Your account balance is insufficient"),
    "error200": (200, 5000, "Server internal error"),
}


def error_response(kind: str, override: str | None = None) -> Response:
    status, code, message = ERRORS[kind]
    return _failure(code, message if override is None else override, status)


def _failure(code: int, message: str, status: int = 200) -> Response:
    return Response(orjson.dumps({"code": code, "msg": message}), status_code=status, media_type="application/json")


def _problem(doc: Any) -> tuple[int, str] | None:
    if not isinstance(doc, dict):
        return 4000, "The request parameter is invalid"
    bot = doc.get("bot_id")
    if not isinstance(bot, str) or not bot.isdigit():
        return 4200, f"Requested resource not found: bot {bot} does not exist or is not published"
    if not isinstance(doc.get("user"), str) or not doc["user"]:
        return 4000, "The request parameter user is required"
    if not isinstance(doc.get("query"), str):
        return 4000, "The request parameter query is required"
    history = doc.get("chat_history", [])
    if not isinstance(history, list) or not all(
        isinstance(m, dict)
        and m.get("role") in ("user", "assistant", "system")
        and isinstance(m.get("content"), str)
        and m.get("content_type") == "text"
        for m in history
    ):
        return 4000, "The request parameter chat_history is invalid"
    return None


def _message(kind: str, content: str) -> dict[str, Any]:
    return {"role": "assistant", "type": kind, "content": content, "content_type": "text"}


def chat(call: Call) -> Response:
    auth = call.request.headers.get("authorization", "")
    if not auth.startswith("Bearer ") or not auth[7:].strip():
        return _failure(4100, "authentication is invalid")
    problem = _problem(call.doc)
    if problem is not None:
        return _failure(*problem)
    reply = call.canned.reply_text
    follow_up = _message("follow_up", "Would you like to know more?")
    if not call.doc.get("stream"):
        answer = {
            "messages": [_message("answer", reply), _message("verbose", '{"msg_type":"generate_answer_finish"}'), follow_up],
            "conversation_id": CONVERSATION,
            "code": 0,
            "msg": "success",
        }
        return json_response(call, answer)
    events: list[tuple[bytes, dict[str, int] | None]] = []
    for index, word in enumerate(call.canned.words):
        event = {
            "event": "message",
            "message": _message("answer", word),
            "is_finish": False,
            "index": index,
            "conversation_id": CONVERSATION,
            "seq_id": index,
        }
        events.append((b"data:" + orjson.dumps(event) + b"\n\n", None))
    if call.doc["query"] == FAIL_MID_STREAM:
        error = {"event": "error", "error_information": {"code": 5000, "msg": "Server internal error"}}
        return sse_response(call, [events[0], (b"data:" + orjson.dumps(error) + b"\n\n", None)])
    events.append(
        (
            b"data:"
            + orjson.dumps({"event": "message", "message": follow_up, "is_finish": True, "index": 1, "conversation_id": CONVERSATION})
            + b"\n\n",
            None,
        )
    )
    events.append((b"data:" + orjson.dumps({"event": "done", "conversation_id": CONVERSATION}) + b"\n\n", None))
    return sse_response(call, events)
