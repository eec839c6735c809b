"""The fake Gemini API: /{version}/models/{model}:generateContent | streamGenerateContent | batchEmbedContents."""

from __future__ import annotations

from typing import Any

import orjson
from starlette.responses import Response

from tests.fake_upstream.common import TOOL_ARGUMENTS, Call, data_event, json_response, sse_response, vector

ERRORS: dict[str, tuple[int, str, str]] = {
    "500": (500, "INTERNAL", "An internal error has occurred."),
    "429": (429, "RESOURCE_EXHAUSTED", "Resource has been exhausted (e.g. check quota)."),
    "401": (401, "UNAUTHENTICATED", "API key not valid. Please pass a valid API key."),
    "400": (400, "INVALID_ARGUMENT", "Request contains an invalid argument."),
    "quota": (
        429,
        "RESOURCE_EXHAUSTED",
        "You exceeded your current quota, please check your plan and billing details.",
    ),
    "error200": (200, "UNAVAILABLE", "The model is overloaded. Please try again later."),
}


def error_response(kind: str, override: str | None = None) -> Response:
    status, rpc_status, message = ERRORS[kind]
    message = message if override is None else override
    body = {"error": {"code": status if status != 200 else 503, "message": message, "status": rpc_status}}
    return Response(orjson.dumps(body), status_code=status, media_type="application/json")


def _wants_tool(call: Call) -> str | None:
    tools = call.field("tools")
    contents = call.field("contents")
    if not tools or not isinstance(contents, list) or not contents:
        return None
    last = contents[-1]
    if not isinstance(last, dict) or last.get("role") != "user":
        return None
    if any(isinstance(p, dict) and "functionResponse" in p for p in last.get("parts") or []):
        return None
    declarations = tools[0].get("functionDeclarations") if isinstance(tools[0], dict) else None
    return str(declarations[0].get("name", "tool")) if declarations else None


def _usage_metadata(call: Call) -> dict[str, int]:
    prompt, completion = call.canned.prompt_tokens, call.canned.completion_tokens
    return {"promptTokenCount": prompt, "candidatesTokenCount": completion, "totalTokenCount": prompt + completion}


def _served(call: Call) -> dict[str, int] | None:
    if call.kind == "no_usage":
        return None
    prompt, completion = call.canned.prompt_tokens, call.canned.completion_tokens
    return {"prompt_tokens": prompt, "completion_tokens": completion, "total_tokens": prompt + completion}


def generate(call: Call, model: str, stream: bool) -> Response:
    tool = _wants_tool(call)
    served = _served(call)
    if not stream:
        parts: list[dict[str, Any]] = (
            [{"functionCall": {"name": tool, "args": TOOL_ARGUMENTS}}] if tool else [{"text": call.canned.reply_text}]
        )
        answer: dict[str, Any] = {
            "candidates": [{"content": {"role": "model", "parts": parts}, "finishReason": "STOP", "index": 0}],
            "modelVersion": model,
        }
        if served:
            answer["usageMetadata"] = _usage_metadata(call)
        return json_response(call, answer, usage=served)
    pieces: list[dict[str, Any]] = (
        [{"functionCall": {"name": tool, "args": TOOL_ARGUMENTS}}] if tool else [{"text": w} for w in call.canned.words]
    )
    events: list[tuple[bytes, dict[str, int] | None]] = []
    for i, part in enumerate(pieces):
        last = i == len(pieces) - 1
        candidate: dict[str, Any] = {"content": {"role": "model", "parts": [part]}, "index": 0}
        chunk: dict[str, Any] = {"candidates": [candidate], "modelVersion": model}
        if last:
            candidate["finishReason"] = "STOP"
            if served:
                chunk["usageMetadata"] = _usage_metadata(call)
        events.append((data_event(chunk), served if last else None))
    return sse_response(call, events)


def batch_embed(call: Call) -> Response:
    requests = call.field("requests") or []
    embeddings = []
    for item in requests:
        parts = (item.get("content") or {}).get("parts") or [] if isinstance(item, dict) else []
        text = "".join(str(p.get("text", "")) for p in parts if isinstance(p, dict))
        embeddings.append({"values": vector(text)})
    return json_response(call, {"embeddings": embeddings})


def dispatch(call: Call, model: str, action: str) -> Response | None:
    if action == "generateContent":
        return generate(call, model, stream=False)
    if action == "streamGenerateContent":
        return generate(call, model, stream=True)
    if action in ("batchEmbedContents", "embedContent"):
        return batch_embed(call)
    return None
