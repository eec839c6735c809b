"""Anthropic Messages answer -> OpenAI chat.completion."""

from __future__ import annotations

from typing import Any

import orjson

from shared.relay.adaptors.common import listed, now
from shared.relay.adaptors.errors import error_from_object
from shared.relay.types import ConvertedResponse, RelayError, Usage

STOP_REASONS = {"end_turn": "stop", "stop_sequence": "stop", "max_tokens": "length", "tool_use": "tool_calls"}


def finish_reason(stop_reason: Any) -> str | None:
    if not isinstance(stop_reason, str) or not stop_reason:
        return None
    return STOP_REASONS.get(stop_reason, stop_reason)


def usage_of(prompt: int, completion: int) -> Usage:
    return Usage(prompt_tokens=prompt, completion_tokens=completion, total_tokens=prompt + completion)


def _count(value: Any) -> int:
    return value if isinstance(value, int) and not isinstance(value, bool) and value > 0 else 0


def anthropic_usage(raw: Any) -> Usage:
    """An Anthropic `usage` object -> Usage. Anthropic's input_tokens leaves out the cached part of
    the prompt: prompt_tokens here is the whole prompt, with the cache writes and reads inside it."""
    raw = raw if isinstance(raw, dict) else {}
    write, read = _count(raw.get("cache_creation_input_tokens")), _count(raw.get("cache_read_input_tokens"))
    usage = usage_of(_count(raw.get("input_tokens")) + write + read, _count(raw.get("output_tokens")))
    usage.cache_write_tokens, usage.cache_read_tokens = write, read
    return usage


def convert(status: int, body: bytes) -> ConvertedResponse:
    try:
        doc = orjson.loads(body)
    except orjson.JSONDecodeError as exc:
        raise RelayError(500, f"unmarshal response body failed: {exc}", code="unmarshal_response_body_failed") from exc
    if not isinstance(doc, dict):
        raise RelayError(500, "unexpected upstream response", code="unmarshal_response_body_failed")
    if isinstance(doc.get("error"), dict):
        raise error_from_object(status, doc["error"])
    texts: list[str] = []
    tool_calls: list[dict[str, Any]] = []
    for block in listed(doc.get("content")):
        if not isinstance(block, dict):
            continue
        if block.get("type") == "text":
            texts.append(str(block.get("text") or ""))
        elif block.get("type") == "tool_use":
            tool_calls.append(
                {
                    "id": block.get("id") or "",
                    "type": "function",
                    "function": {
                        "name": block.get("name") or "",
                        "arguments": orjson.dumps(block.get("input") or {}).decode(),
                    },
                }
            )
    text = "".join(texts)
    message: dict[str, Any] = {"role": "assistant", "content": text}
    if tool_calls:
        message["tool_calls"] = tool_calls
    usage = anthropic_usage(doc.get("usage"))
    answer = {
        "id": f"chatcmpl-{doc.get('id', '')}",
        "object": "chat.completion",
        "created": now(),
        "model": doc.get("model") or "",
        "choices": [{"index": 0, "message": message, "finish_reason": finish_reason(doc.get("stop_reason"))}],
        "usage": usage.as_dict(),
    }
    return ConvertedResponse(status=status, body=orjson.dumps(answer), usage=usage, text=text)
