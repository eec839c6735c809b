"""The fake PaLM 2 API: POST /v1beta2/models/chat-bison-001:generateMessage with `x-goog-api-key`
(or `?key=`), the `prompt.messages` body of author/content pairs, answered with `candidates` (no
token counts, as PaLM reports none). A last message containing `[blocked]` is answered the way
PaLM answers a filtered prompt: no candidates, a `filters` entry."""

from __future__ import annotations

from typing import Any

import orjson
from starlette.responses import Response

from tests.fake_upstream import gemini
from tests.fake_upstream.common import Call, json_response

PATH = "/v1beta2/models/chat-bison-001:generateMessage"
error_response = gemini.error_response  # Google's RPC error shape


def _invalid(message: str) -> Response:
    body = {"error": {"code": 400, "message": message, "status": "INVALID_ARGUMENT"}}
    return Response(orjson.dumps(body), status_code=400, media_type="application/json")


def generate_message(call: Call) -> Response:
    if not call.record.key:
        return gemini.error_response("401")
    prompt = call.field("prompt")
    messages = prompt.get("messages") if isinstance(prompt, dict) else None
    if not isinstance(messages, list) or not messages:
        return _invalid("* GenerateMessageRequest.prompt.messages: messages must not be empty")
    if not all(isinstance(m, dict) and isinstance(m.get("content"), str) for m in messages):
        return _invalid("* GenerateMessageRequest.prompt.messages: each message needs content")
    answer: dict[str, Any] = {"messages": messages}
    if "[blocked]" in messages[-1]["content"]:
        answer["filters"] = [{"reason": "OTHER"}]
        return json_response(call, answer)
    answer["candidates"] = [{"author": "1", "content": call.canned.reply_text}]
    return json_response(call, answer)
