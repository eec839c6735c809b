"""A whole OpenAI chat.completion -> an Anthropic Messages answer."""

from __future__ import annotations

import secrets
from typing import Any

import orjson

from shared.relay.types import ConvertedResponse, RelayError, Usage

STOP_REASONS = {
    "stop": "end_turn",
    "length": "max_tokens",
    "tool_calls": "tool_use",
    "function_call": "tool_use",
    "content_filter": "refusal",
}


def as_dict(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def stop_reason(finish_reason: Any) -> str:
    return STOP_REASONS.get(finish_reason, "end_turn") if isinstance(finish_reason, str) else "end_turn"


def message_id(upstream_id: Any = "") -> str:
    tail = upstream_id.removeprefix("chatcmpl-") if isinstance(upstream_id, str) and upstream_id else secrets.token_hex(12)
    return f"msg_{tail}"


def usage_body(usage: Usage | None, prompt_estimate: int = 0) -> dict[str, int]:
    if usage is None:
        return {"input_tokens": prompt_estimate, "output_tokens": 0, "cache_creation_input_tokens": 0, "cache_read_input_tokens": 0}
    return {
        "input_tokens": usage.prompt_tokens - usage.cache_write_tokens - usage.cache_read_tokens,
        "output_tokens": usage.completion_tokens,
        "cache_creation_input_tokens": usage.cache_write_tokens,
        "cache_read_input_tokens": usage.cache_read_tokens,
    }


def tool_input(arguments: Any) -> dict[str, Any]:
    """Tool-call arguments (a JSON text) as the object Anthropic's `input` is; text that is not a
    JSON object is kept under `_raw` rather than lost."""
    if isinstance(arguments, dict):
        return arguments
    if not isinstance(arguments, str) or not arguments.strip():
        return {}
    try:
        parsed = orjson.loads(arguments)
    except orjson.JSONDecodeError:
        return {"_raw": arguments}
    return parsed if isinstance(parsed, dict) else {"_raw": arguments}


def _reasoning(message: dict[str, Any]) -> str:
    for key in ("reasoning_content", "reasoning"):
        if isinstance(message.get(key), str) and message[key]:
            return str(message[key])
    return ""


def convert(converted: ConvertedResponse, model: str, prompt_estimate: int) -> ConvertedResponse:
    """The chat answer the channel's adaptor produced -> Anthropic's; usage and text carry over."""
    try:
        doc = orjson.loads(converted.body)
    except orjson.JSONDecodeError as exc:
        raise RelayError(500, f"unmarshal response body failed: {exc}", code="unmarshal_response_body_failed") from exc
    choices = doc.get("choices") if isinstance(doc, dict) else None
    choice = as_dict(choices[0]) if isinstance(choices, list) and choices else {}
    message = as_dict(choice.get("message"))
    content: list[dict[str, Any]] = []
    reasoning = _reasoning(message)
    if reasoning:
        content.append({"type": "thinking", "thinking": reasoning, "signature": ""})
    text = message.get("content")
    if isinstance(text, str) and text:
        content.append({"type": "text", "text": text})
    calls = message.get("tool_calls")
    for call in calls if isinstance(calls, list) else ():
        function = call.get("function") if isinstance(call, dict) else None
        if isinstance(function, dict):
            content.append(
                {
                    "type": "tool_use",
                    "id": str(call.get("id") or ""),
                    "name": str(function.get("name") or ""),
                    "input": tool_input(function.get("arguments")),
                }
            )
    answer = {
        "id": message_id(doc.get("id") if isinstance(doc, dict) else ""),
        "type": "message",
        "role": "assistant",
        "model": model,
        "content": content,
        "stop_reason": stop_reason(choice.get("finish_reason")),
        "stop_sequence": None,
        "usage": usage_body(converted.usage, prompt_estimate),
    }
    return ConvertedResponse(converted.status, orjson.dumps(answer), usage=converted.usage, text=converted.text)
