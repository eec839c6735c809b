"""The fake Anthropic Messages API (POST /v1/messages)."""

from __future__ import annotations

from typing import Any

import orjson
from starlette.responses import Response

from tests.fake_upstream.common import TOOL_ARGUMENTS, Call, json_response, sse_response, usage_dict, wants_tool_call

ERRORS: dict[str, tuple[int, str, str]] = {
    "500": (500, "api_error", "Internal server error"),
    "429": (429, "rate_limit_error", "Number of request tokens has exceeded your per-minute rate limit"),
    "401": (401, "authentication_error", "invalid x-api-key"),
    "400": (400, "invalid_request_error", "messages: field required"),
    "quota": (400, "invalid_request_error", "Your credit balance is too low to access the Anthropic API."),
    "error200": (200, "overloaded_error", "Overloaded"),
}


def error_response(kind: str, override: str | None = None) -> Response:
    status, err_type, message = ERRORS[kind]
    message = message if override is None else override
    body = {"type": "error", "error": {"type": err_type, "message": message}}
    return Response(orjson.dumps(body), status_code=status, media_type="application/json")


def _event(name: str, payload: dict[str, Any]) -> bytes:
    return b"event: " + name.encode() + b"\ndata: " + orjson.dumps({"type": name, **payload}) + b"\n\n"


def _tool(call: Call) -> dict[str, Any] | None:
    tools = call.field("tools")
    if not wants_tool_call(call.field("messages"), tools):
        return None
    name = tools[0].get("name", "tool") if isinstance(tools[0], dict) else "tool"
    return {"type": "tool_use", "id": "toolu_fake_0", "name": name, "input": TOOL_ARGUMENTS}


def messages(call: Call) -> Response:
    model = str(call.field("model") or "claude-3-5-sonnet-20241022")
    prompt, completion = call.canned.prompt_tokens, call.canned.completion_tokens
    usage = (
        None
        if call.kind == "no_usage"
        else {"prompt_tokens": prompt, "completion_tokens": completion, "total_tokens": prompt + completion}
    )
    tool = _tool(call)
    stop = "tool_use" if tool else "end_turn"
    if not call.field("stream"):
        content = [tool] if tool else [{"type": "text", "text": call.canned.reply_text}]
        answer = {
            "id": "msg_fake",
            "type": "message",
            "role": "assistant",
            "model": model,
            "content": content,
            "stop_reason": stop,
            "stop_sequence": None,
            "usage": {"input_tokens": prompt if usage else 0, "output_tokens": completion if usage else 0},
        }
        return json_response(call, answer, usage=usage)
    events = [(_event(name, payload), used) for (name, payload), used in message_events(call, model)]
    return sse_response(call, events)


def message_events(call: Call, model: str) -> list[tuple[tuple[str, dict[str, Any]], dict[str, int] | None]]:
    """A streamed answer as ((event name, payload), the usage it reports): the SSE fake and the Bedrock
    fake (tests/fake_upstream/aws.py) frame the same events."""
    prompt, completion = call.canned.prompt_tokens, call.canned.completion_tokens
    usage = None if call.kind == "no_usage" else usage_dict(prompt, completion)
    tool = _tool(call)
    stop = "tool_use" if tool else "end_turn"
    start_usage = {"input_tokens": prompt if usage else 0, "output_tokens": 1 if usage else 0}
    events: list[tuple[tuple[str, dict[str, Any]], dict[str, int] | None]] = [
        (
            _ev(
                "message_start",
                {
                    "message": {
                        "id": "msg_fake",
                        "type": "message",
                        "role": "assistant",
                        "model": model,
                        "content": [],
                        "stop_reason": None,
                        "stop_sequence": None,
                        "usage": start_usage,
                    }
                },
            ),
            None,
        ),
    ]
    if tool:
        block = {"type": "tool_use", "id": tool["id"], "name": tool["name"], "input": {}}
        events.append((_ev("content_block_start", {"index": 0, "content_block": block}), None))
        partial = orjson.dumps(TOOL_ARGUMENTS).decode()
        for piece in (partial[: len(partial) // 2], partial[len(partial) // 2 :]):
            events.append(
                (
                    _ev(
                        "content_block_delta",
                        {"index": 0, "delta": {"type": "input_json_delta", "partial_json": piece}},
                    ),
                    None,
                )
            )
    else:
        events.append(
            (_ev("content_block_start", {"index": 0, "content_block": {"type": "text", "text": ""}}), None)
        )
        events.append((_ev("ping", {}), None))
        for word in call.canned.words:
            events.append(
                (_ev("content_block_delta", {"index": 0, "delta": {"type": "text_delta", "text": word}}), None)
            )
    events.append((_ev("content_block_stop", {"index": 0}), None))
    delta_usage = {"output_tokens": completion if usage else 0}
    events.append(
        (_ev("message_delta", {"delta": {"stop_reason": stop, "stop_sequence": None}, "usage": delta_usage}), usage)
    )
    events.append((_ev("message_stop", {}), None))
    return events


def _ev(name: str, payload: dict[str, Any]) -> tuple[str, dict[str, Any]]:
    return name, payload
