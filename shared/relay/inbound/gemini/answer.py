"""OpenAI answers -> Gemini's: GenerateContentResponse, embeddings, and Google's error shape."""

from __future__ import annotations

from typing import Any

import orjson

FINISH_REASONS = {
    "stop": "STOP",
    "tool_calls": "STOP",
    "function_call": "STOP",
    "length": "MAX_TOKENS",
    "content_filter": "SAFETY",
}
# HTTP status -> google.rpc.Code name, as Google's APIs pair them.
RPC_STATUS = {
    400: "INVALID_ARGUMENT",
    401: "UNAUTHENTICATED",
    403: "PERMISSION_DENIED",
    404: "NOT_FOUND",
    409: "ABORTED",
    413: "INVALID_ARGUMENT",
    429: "RESOURCE_EXHAUSTED",
    499: "CANCELLED",
    500: "INTERNAL",
    501: "UNIMPLEMENTED",
    503: "UNAVAILABLE",
    504: "DEADLINE_EXCEEDED",
}


def as_dict(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def rpc_status(status: int) -> str:
    if status in RPC_STATUS:
        return RPC_STATUS[status]
    return "INTERNAL" if status >= 500 else "FAILED_PRECONDITION"


def google_error(status: int, payload: Any) -> dict[str, Any]:
    """Any error body the relay writes (OpenAI's `{"error": {...}}`, or none) -> Google's shape."""
    error = payload.get("error") if isinstance(payload, dict) else None
    message = ""
    if isinstance(error, dict):
        message = str(error.get("message") or "")
    elif isinstance(error, str):
        message = error
    return {"error": {"code": status, "message": message or f"status {status}", "status": rpc_status(status)}}


def finish_reason(reason: Any) -> str | None:
    if not isinstance(reason, str) or not reason:
        return None
    return FINISH_REASONS.get(reason, "OTHER")


def function_call(call: dict[str, Any]) -> dict[str, Any] | None:
    function = call.get("function")
    if not isinstance(function, dict):
        return None
    raw = function.get("arguments")
    try:
        args = orjson.loads(raw) if isinstance(raw, str) and raw else {}
    except orjson.JSONDecodeError:
        args = {"arguments": raw}
    out: dict[str, Any] = {"name": str(function.get("name") or ""), "args": args if isinstance(args, dict) else {"value": args}}
    if isinstance(call.get("id"), str) and call["id"]:
        out["id"] = call["id"]
    return {"functionCall": out}


def usage_metadata(usage: Any) -> dict[str, int] | None:
    if not isinstance(usage, dict):
        return None
    prompt = int(usage.get("prompt_tokens") or 0)
    completion = int(usage.get("completion_tokens") or 0)
    return {
        "promptTokenCount": prompt,
        "candidatesTokenCount": completion,
        "totalTokenCount": int(usage.get("total_tokens") or prompt + completion),
    }


def generate_answer(answer: Any, model: str) -> dict[str, Any]:
    """An OpenAI chat.completion -> a GenerateContentResponse."""
    if not isinstance(answer, dict):
        return {"candidates": [], "modelVersion": model}
    candidates = []
    for index, choice in enumerate(c for c in answer.get("choices") or [] if isinstance(c, dict)):
        message = as_dict(choice.get("message"))
        parts: list[dict[str, Any]] = []
        text = message.get("content")
        if isinstance(text, str) and text:
            parts.append({"text": text})
        for call in message.get("tool_calls") or []:
            part = function_call(call) if isinstance(call, dict) else None
            if part is not None:
                parts.append(part)
        candidate: dict[str, Any] = {"content": {"role": "model", "parts": parts or [{"text": ""}]}, "index": index}
        reason = finish_reason(choice.get("finish_reason"))
        if reason:
            candidate["finishReason"] = reason
        candidates.append(candidate)
    out: dict[str, Any] = {"candidates": candidates, "modelVersion": model}
    usage = usage_metadata(answer.get("usage"))
    if usage is not None:
        out["usageMetadata"] = usage
    if isinstance(answer.get("id"), str):
        out["responseId"] = answer["id"]
    return out


def embed_answer(answer: Any, batch: bool) -> dict[str, Any]:
    """An OpenAI embedding list -> embedContent's `{"embedding"}` or batchEmbedContents' `{"embeddings"}`."""
    data = answer.get("data") if isinstance(answer, dict) else None
    items = sorted((d for d in data or [] if isinstance(d, dict)), key=lambda d: d.get("index") or 0)
    vectors = [{"values": d.get("embedding") or []} for d in items]
    if batch:
        return {"embeddings": vectors}
    return {"embedding": vectors[0] if vectors else {"values": []}}
