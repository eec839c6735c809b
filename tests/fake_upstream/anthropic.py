"""The fake Anthropic Messages API (POST /v1/messages)."""

from __future__ import annotations

from typing import Any

import orjson
from starlette.responses import Response

from tests.fake_upstream.common import TOOL_ARGUMENTS, Call, json_response, sse_response, wants_tool_call

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


def _answer_facts(call: Call) -> tuple[int, int, dict[str, int] | None, dict[str, Any] | None, str, str, dict[str, int]]:
    """(prompt, completion, usage served, tool_use block, stop reason, reasoning, cache usage fields)."""
    prompt, completion = call.canned.prompt_tokens, call.canned.completion_tokens
    usage = (
        None if call.kind == "no_usage" else {"prompt_tokens": prompt, "completion_tokens": completion, "total_tokens": prompt + completion}
    )
    tool = _tool(call)
    stop = "tool_use" if tool else "end_turn"
    cache = (
        {"cache_creation_input_tokens": call.canned.cache_write_tokens, "cache_read_input_tokens": call.canned.cache_read_tokens}
        if usage and (call.canned.cache_write_tokens or call.canned.cache_read_tokens)
        else {}
    )
    return prompt, completion, usage, tool, stop, call.canned.reasoning_text, cache


def messages(call: Call) -> Response:
    model = str(call.field("model") or "claude-3-5-sonnet-20241022")
    prompt, completion, usage, tool, stop, reasoning, cache = _answer_facts(call)
    if not call.field("stream"):
        content = [tool] if tool else [{"type": "text", "text": call.canned.reply_text}]
        if reasoning:
            content.insert(0, {"type": "thinking", "thinking": reasoning, "signature": "fake-signature"})
        answer = {
            "id": "msg_fake",
            "type": "message",
            "role": "assistant",
            "model": model,
            "content": content,
            "stop_reason": stop,
            "stop_sequence": None,
            "usage": {"input_tokens": prompt if usage else 0, "output_tokens": completion if usage else 0, **cache},
        }
        return json_response(call, answer, usage=usage)
    return sse_response(call, message_events(call, model))


def message_events(call: Call, model: str) -> list[tuple[bytes, dict[str, int] | None]]:
    """A streamed answer as SSE events with the usage each reports: the SSE fake sends them, the
    Bedrock fake (tests/fake_upstream/aws.py) frames their JSON in AWS's event stream."""
    prompt, completion, usage, tool, stop, reasoning, cache = _answer_facts(call)
    start_usage = {"input_tokens": prompt if usage else 0, "output_tokens": 1 if usage else 0, **cache}
    events: list[tuple[bytes, dict[str, int] | None]] = [
        (
            _event(
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
    if call.kind == "stream_error_echo":
        key = call.record.key
        error = {"error": {"type": "overloaded_error", "message": f"Overloaded for key {key} (Authorization: Bearer {key})"}}
        return [*events, (_event("error", error), None)]
    index = 0
    if reasoning:
        thinking = {"type": "thinking", "thinking": "", "signature": ""}
        events.append((_event("content_block_start", {"index": 0, "content_block": thinking}), None))
        for delta in ({"type": "thinking_delta", "thinking": reasoning}, {"type": "signature_delta", "signature": "fake-signature"}):
            events.append((_event("content_block_delta", {"index": 0, "delta": delta}), None))
        events.append((_event("content_block_stop", {"index": 0}), None))
        index = 1
    if tool:
        block = {"type": "tool_use", "id": tool["id"], "name": tool["name"], "input": {}}
        events.append((_event("content_block_start", {"index": index, "content_block": block}), None))
        partial = orjson.dumps(TOOL_ARGUMENTS).decode()
        for piece in (partial[: len(partial) // 2], partial[len(partial) // 2 :]):
            events.append(
                (
                    _event(
                        "content_block_delta",
                        {"index": index, "delta": {"type": "input_json_delta", "partial_json": piece}},
                    ),
                    None,
                )
            )
    else:
        events.append((_event("content_block_start", {"index": index, "content_block": {"type": "text", "text": ""}}), None))
        events.append((_event("ping", {}), None))
        for word in call.canned.words:
            events.append((_event("content_block_delta", {"index": index, "delta": {"type": "text_delta", "text": word}}), None))
    events.append((_event("content_block_stop", {"index": index}), None))
    delta_usage = {"output_tokens": completion if usage else 0}
    events.append((_event("message_delta", {"delta": {"stop_reason": stop, "stop_sequence": None}, "usage": delta_usage}), usage))
    events.append((_event("message_stop", {}), None))
    return events
