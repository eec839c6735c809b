"""Ollama answers -> OpenAI chat.completion / embedding list; usage from prompt_eval_count/eval_count."""

from __future__ import annotations

import uuid
from typing import Any

import orjson

from shared.relay.adaptors.common import member, now
from shared.relay.types import ConvertedResponse, RelayError, RelayMeta, Usage

DONE_REASONS = {"stop": "stop", "length": "length"}


def _count(value: Any) -> int:
    return value if isinstance(value, int) and not isinstance(value, bool) and value > 0 else 0


def usage_of(doc: dict[str, Any]) -> Usage:
    prompt, completion = _count(doc.get("prompt_eval_count")), _count(doc.get("eval_count"))
    return Usage(prompt, completion, prompt + completion)


def tool_calls(message: dict[str, Any]) -> list[dict[str, Any]]:
    """Ollama's `tool_calls` (arguments as an object, no ids) -> OpenAI's."""
    calls = []
    for call in message.get("tool_calls") or []:
        function = call.get("function") if isinstance(call, dict) else None
        if isinstance(function, dict):
            arguments = function.get("arguments")
            calls.append(
                {
                    "id": f"call_{uuid.uuid4().hex}",
                    "type": "function",
                    "function": {
                        "name": str(function.get("name") or ""),
                        "arguments": orjson.dumps(arguments if isinstance(arguments, dict) else {}).decode(),
                    },
                }
            )
    return calls


def finish_reason(doc: dict[str, Any], has_calls: bool = False) -> str | None:
    if has_calls:
        return "tool_calls"
    if not doc.get("done"):
        return None
    reason = doc.get("done_reason")
    return DONE_REASONS.get(reason, "stop") if isinstance(reason, str) else "stop"


def ollama_error(status: int, message: str) -> RelayError:
    """One API's shape for an error Ollama reports in its body."""
    return RelayError(status if status >= 400 else 500, message, type="ollama_error", code="ollama_error")


def parse(status: int, body: bytes) -> dict[str, Any]:
    try:
        doc = orjson.loads(body)
    except orjson.JSONDecodeError as exc:
        raise RelayError(500, f"unmarshal response body failed: {exc}", code="unmarshal_response_body_failed") from exc
    if not isinstance(doc, dict):
        raise RelayError(500, "unexpected upstream response", code="unmarshal_response_body_failed")
    if isinstance(doc.get("error"), str) and doc["error"]:
        raise ollama_error(status, doc["error"])
    return doc


def convert_chat(meta: RelayMeta, status: int, body: bytes) -> ConvertedResponse:
    doc = parse(status, body)
    message = member(doc, "message")
    content = message.get("content")
    text = content if isinstance(content, str) else ""
    usage = usage_of(doc)
    calls = tool_calls(message)
    reply: dict[str, Any] = {"role": "assistant", "content": text}
    if calls:
        reply["tool_calls"] = calls
    answer = {
        "id": f"chatcmpl-{uuid.uuid4().hex}",
        "object": "chat.completion",
        "created": now(),
        "model": doc.get("model") or meta.actual_model,
        "choices": [{"index": 0, "message": reply, "finish_reason": finish_reason(doc, bool(calls))}],
        "usage": usage.as_dict(),
    }
    return ConvertedResponse(status=status, body=orjson.dumps(answer), usage=usage, text=text)


def convert_embeddings(meta: RelayMeta, status: int, body: bytes) -> ConvertedResponse:
    doc = parse(status, body)
    vectors = doc.get("embeddings")
    data = [
        {"object": "embedding", "embedding": values, "index": index}
        for index, values in enumerate(vectors if isinstance(vectors, list) else [])
    ]
    prompt = _count(doc.get("prompt_eval_count"))
    usage = Usage(prompt, 0, prompt)
    answer = {"object": "list", "data": data, "model": doc.get("model") or meta.actual_model, "usage": usage.as_dict()}
    return ConvertedResponse(status=status, body=orjson.dumps(answer), usage=usage)
