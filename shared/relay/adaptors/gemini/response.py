"""Gemini answers -> OpenAI chat.completion / embedding list."""

from __future__ import annotations

import uuid
from typing import Any

import orjson

from shared.relay.adaptors.common import listed, now
from shared.relay.adaptors.errors import error_from_object
from shared.relay.types import ConvertedResponse, RelayError, RelayMeta, Usage

FINISH_REASONS = {
    "STOP": "stop",
    "MAX_TOKENS": "length",
    "SAFETY": "content_filter",
    "RECITATION": "content_filter",
    "BLOCKLIST": "content_filter",
    "PROHIBITED_CONTENT": "content_filter",
    "SPII": "content_filter",
}


def parse(status: int, body: bytes) -> dict[str, Any]:
    try:
        doc = orjson.loads(body)
    except orjson.JSONDecodeError as exc:
        raise RelayError(500, f"unmarshal response body failed: {exc}", code="unmarshal_response_body_failed") from exc
    if not isinstance(doc, dict):
        raise RelayError(500, "unexpected upstream response", code="unmarshal_response_body_failed")
    if isinstance(doc.get("error"), dict):
        raise error_from_object(status, doc["error"])
    return doc


def candidate_parts(candidate: dict[str, Any]) -> list[dict[str, Any]]:
    content = candidate.get("content")
    parts = content.get("parts") if isinstance(content, dict) else None
    return [p for p in listed(parts) if isinstance(p, dict) and not p.get("thought")]


def tool_calls(parts: list[dict[str, Any]]) -> list[dict[str, Any]]:
    calls = []
    for part in parts:
        call = part.get("functionCall")
        if isinstance(call, dict):
            calls.append(
                {
                    "id": f"call_{uuid.uuid4().hex}",
                    "type": "function",
                    "function": {
                        "name": call.get("name") or "",
                        "arguments": orjson.dumps(call.get("args") or {}).decode(),
                    },
                }
            )
    return calls


def finish_reason(candidate: dict[str, Any], has_calls: bool) -> str | None:
    if has_calls:
        return "tool_calls"
    reason = candidate.get("finishReason")
    if not isinstance(reason, str) or not reason:
        return None
    return FINISH_REASONS.get(reason, reason.lower())


def parts_text(parts: list[dict[str, Any]]) -> str:
    return "".join(str(p["text"]) for p in parts if isinstance(p.get("text"), str))


def _reported_usage(doc: dict[str, Any]) -> dict[str, int] | None:
    meta = doc.get("usageMetadata")
    if not isinstance(meta, dict):
        return None
    prompt = int(meta.get("promptTokenCount") or 0)
    completion = int(meta.get("candidatesTokenCount") or 0)
    return {"prompt_tokens": prompt, "completion_tokens": completion, "total_tokens": prompt + completion}


def convert_chat(meta: RelayMeta, status: int, body: bytes) -> ConvertedResponse:
    doc = parse(status, body)
    candidates = [c for c in listed(doc.get("candidates")) if isinstance(c, dict)]
    if not candidates:
        raise RelayError(status, "No candidates returned", type="server_error", code=500)
    choices = []
    texts = []
    for index, candidate in enumerate(candidates):
        parts = candidate_parts(candidate)
        calls = tool_calls(parts)
        text = parts_text(parts)
        texts.append(text)
        message: dict[str, Any] = {"role": "assistant", "content": text if text or not calls else None}
        if calls:
            message["tool_calls"] = calls
        choices.append({"index": index, "message": message, "finish_reason": finish_reason(candidate, bool(calls)) or "stop"})
    answer: dict[str, Any] = {
        "id": f"chatcmpl-{uuid.uuid4().hex}",
        "object": "chat.completion",
        "created": now(),
        "model": meta.actual_model,
        "choices": choices,
    }
    # Shown to the client as Gemini reported it; billing follows One API and counts locally (usage None).
    reported = _reported_usage(doc)
    if reported is not None:
        answer["usage"] = reported
    return ConvertedResponse(status=status, body=orjson.dumps(answer), usage=None, text="".join(texts))


def convert_embeddings(meta: RelayMeta, status: int, body: bytes) -> ConvertedResponse:
    doc = parse(status, body)
    data = []
    for index, item in enumerate(doc.get("embeddings") or []):
        values = item.get("values") if isinstance(item, dict) else None
        data.append({"object": "embedding", "embedding": values or [], "index": index})
    usage = Usage()  # One API bills Gemini embeddings at zero
    answer = {"object": "list", "data": data, "model": meta.actual_model, "usage": usage.as_dict()}
    return ConvertedResponse(status=status, body=orjson.dumps(answer), usage=usage)
