"""The fake OpenAI (and Azure OpenAI) Responses API: create (whole or streamed), retrieve, delete.

Deterministic like the chat fake: the canned reply as one message, or a call of the first function
tool when tools are offered and the last input item is the user's; usage is the canned one.
Responses created with `store` (the default) are kept for retrieve, delete and previous_response_id.
"""

from __future__ import annotations

import itertools
import re
from typing import Any

import orjson
from starlette.responses import Response

from tests.fake_upstream.common import CREATED, TOOL_ARGUMENTS, Call, json_response, sse_response

ITEM_PATH = re.compile(r"/responses/(?P<id>[^/]+)(?P<rest>/input_items)?$")
_numbers = itertools.count(1)


def _usage(call: Call) -> dict[str, Any] | None:
    if call.kind == "no_usage":
        return None
    prompt, completion = call.canned.prompt_tokens, call.canned.completion_tokens
    return {
        "input_tokens": prompt,
        "input_tokens_details": {"cached_tokens": 0},
        "output_tokens": completion,
        "output_tokens_details": {"reasoning_tokens": 0},
        "total_tokens": prompt + completion,
    }


def _served(usage: dict[str, Any] | None) -> dict[str, int] | None:
    """The usage in the chat vocabulary the fake records for billing checks."""
    if usage is None:
        return None
    return {"prompt_tokens": usage["input_tokens"], "completion_tokens": usage["output_tokens"], "total_tokens": usage["total_tokens"]}


def _wants_tool(body: dict[str, Any]) -> dict[str, Any] | None:
    tools = [t for t in body.get("tools") or [] if isinstance(t, dict) and t.get("type") == "function"]
    items = body.get("input")
    if not tools:
        return None
    if isinstance(items, list) and items:
        last = items[-1]
        if not isinstance(last, dict) or last.get("type", "message") != "message" or last.get("role") != "user":
            return None
    return tools[0]


def _error(status: int, message: str, param: str | None = None) -> Response:
    body = {"error": {"message": message, "type": "invalid_request_error", "param": param, "code": None}}
    return Response(orjson.dumps(body), status_code=status, media_type="application/json")


def _base(call: Call, body: dict[str, Any], response_id: str, status: str) -> dict[str, Any]:
    return {
        "id": response_id,
        "object": "response",
        "created_at": CREATED,
        "status": status,
        "error": None,
        "incomplete_details": None,
        "instructions": body.get("instructions"),
        "max_output_tokens": body.get("max_output_tokens"),
        "model": str(body.get("model") or "gpt-4o"),
        "output": [],
        "parallel_tool_calls": True,
        "previous_response_id": body.get("previous_response_id"),
        "store": body.get("store", True),
        "tool_choice": body.get("tool_choice", "auto"),
        "tools": body.get("tools") or [],
        "usage": None,
    }


def create(call: Call, stored: dict[str, Any]) -> Response:
    body = call.doc if isinstance(call.doc, dict) else {}
    previous = body.get("previous_response_id")
    if previous is not None and previous not in stored:
        return _error(400, f"Previous response with id '{previous}' not found.", "previous_response_id")
    response_id = f"resp_fake{next(_numbers):04d}"
    tool = _wants_tool(body)
    if tool:
        item = {
            "id": "fc_fake",
            "type": "function_call",
            "status": "completed",
            "call_id": "call_fake_0",
            "name": tool.get("name", "tool"),
            "arguments": orjson.dumps(TOOL_ARGUMENTS).decode(),
        }
    else:
        part = {"type": "output_text", "text": call.canned.reply_text, "annotations": []}
        item = {"id": "msg_fake", "type": "message", "status": "completed", "role": "assistant", "content": [part]}
    final = {**_base(call, body, response_id, "completed"), "output": [item], "usage": _usage(call)}
    if body.get("store", True):
        stored[response_id] = final
    if body.get("stream"):
        return _stream(call, body, final, item)
    return json_response(call, final, usage=_served(final["usage"]))


def _stream(call: Call, body: dict[str, Any], final: dict[str, Any], item: dict[str, Any]) -> Response:
    start = _base(call, body, final["id"], "in_progress")
    numbers = itertools.count()
    events: list[tuple[bytes, dict[str, int] | None]] = []

    def event(kind: str, usage: dict[str, int] | None = None, **fields: Any) -> None:
        payload = orjson.dumps({"type": kind, "sequence_number": next(numbers), **fields})
        events.append((b"event: " + kind.encode() + b"\ndata: " + payload + b"\n\n", usage))

    event("response.created", response=start)
    event("response.in_progress", response=start)
    ids = {"item_id": item["id"], "output_index": 0}
    if item["type"] == "function_call":
        event("response.output_item.added", output_index=0, item={**item, "arguments": "", "status": "in_progress"})
        event("response.function_call_arguments.delta", **ids, delta=item["arguments"])
        event("response.function_call_arguments.done", **ids, arguments=item["arguments"])
    else:
        event("response.output_item.added", output_index=0, item={**item, "content": [], "status": "in_progress"})
        event("response.content_part.added", **ids, content_index=0, part={"type": "output_text", "text": "", "annotations": []})
        for word in call.canned.words:
            event("response.output_text.delta", **ids, content_index=0, delta=word)
        event("response.output_text.done", **ids, content_index=0, text=call.canned.reply_text)
        event("response.content_part.done", **ids, content_index=0, part=item["content"][0])
    event("response.output_item.done", output_index=0, item=item)
    event("response.completed", _served(final["usage"]), response=final)
    return sse_response(call, events)


def item(call: Call, stored: dict[str, Any], response_id: str, rest: str) -> Response:
    found = stored.get(response_id)
    if found is None:
        return _error(404, f"Response with id '{response_id}' not found.")
    if call.request.method == "DELETE":
        del stored[response_id]
        return json_response(call, {"id": response_id, "object": "response.deleted", "deleted": True})
    if rest:
        return json_response(call, {"object": "list", "data": [], "first_id": None, "last_id": None, "has_more": False})
    return json_response(call, found)
