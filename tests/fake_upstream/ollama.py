"""The fake Ollama server: POST /api/chat (NDJSON stream) and /api/embed, with Ollama's checks.

Ollama itself checks no credential; it refuses a body that is not its shape (400) and a model it
has not pulled (404, "model ... not found"), always as `{"error": "<text>"}`."""

from __future__ import annotations

from typing import Any

import orjson
from starlette.responses import Response, StreamingResponse

from tests.fake_upstream.common import TOOL_ARGUMENTS, Call, StreamCut, json_response, vector, wants_tool_call

MISSING_MODEL = "not-pulled"  # a model name the fake has "not pulled"
ERRORS: dict[str, tuple[int, str]] = {
    "500": (500, "llama runner process has terminated: exit status 2"),
    "429": (429, "server busy, please try again.  maximum pending requests exceeded"),
    "401": (401, "unauthorized"),
    "400": (400, "invalid message format"),
    "quota": (429, "server busy, please try again.  maximum pending requests exceeded"),
    "error200": (200, "an error was encountered while running the model"),
}


def error_response(kind: str, override: str | None = None) -> Response:
    status, message = ERRORS[kind]
    return _error(status, message if override is None else override)


def _error(status: int, message: str) -> Response:
    return Response(orjson.dumps({"error": message}), status_code=status, media_type="application/json")


def _bad_chat(doc: Any) -> str:
    if not isinstance(doc, dict) or not isinstance(doc.get("model"), str) or not doc["model"]:
        return "model is required"
    messages = doc.get("messages")
    if not isinstance(messages, list):
        return "messages is required"
    for message in messages:
        if not isinstance(message, dict) or not isinstance(message.get("content"), str):
            return "invalid message format"
        if message.get("role") not in ("system", "user", "assistant", "tool"):
            return f"invalid role: {message.get('role')}"
        images = message.get("images", [])
        if not isinstance(images, list) or not all(isinstance(i, str) for i in images):
            return "invalid images"
        calls = message.get("tool_calls", [])
        if not isinstance(calls, list) or not all(
            isinstance(c, dict) and isinstance(c.get("function"), dict) and isinstance(c["function"].get("arguments"), dict) for c in calls
        ):
            return "invalid tool_calls: arguments must be an object"
    tools = doc.get("tools", [])
    if not isinstance(tools, list) or not all(isinstance(t, dict) and t.get("type") == "function" for t in tools):
        return "invalid tools"
    if "options" in doc and not isinstance(doc["options"], dict):
        return "options must be an object"
    return ""


def _final(call: Call, model: str) -> dict[str, Any]:
    usage = call.kind != "no_usage"
    return {
        "model": model,
        "created_at": "2023-11-14T22:13:20Z",
        "message": {"role": "assistant", "content": ""},
        "done": True,
        "done_reason": "stop",
        "total_duration": 4883583458,
        "load_duration": 1334875,
        "prompt_eval_count": call.canned.prompt_tokens if usage else 0,
        "eval_count": call.canned.completion_tokens if usage else 0,
    }


def chat(call: Call) -> Response:
    problem = _bad_chat(call.doc)
    if problem:
        return _error(400, problem)
    model = call.doc["model"]
    if model == MISSING_MODEL:
        return _error(404, f'model "{model}" not found, try pulling it first')
    final = _final(call, model)
    usage = (
        None
        if call.kind == "no_usage"
        else {
            "prompt_tokens": final["prompt_eval_count"],
            "completion_tokens": final["eval_count"],
            "total_tokens": final["prompt_eval_count"] + final["eval_count"],
        }
    )
    tools = call.doc.get("tools")
    if wants_tool_call(call.doc["messages"], tools):
        name = tools[0].get("function", {}).get("name", "tool")
        final["message"]["tool_calls"] = [{"function": {"name": name, "arguments": TOOL_ARGUMENTS}}]
        if call.doc.get("stream") is False:
            return json_response(call, final, usage=usage)
        call.record.served_usage = usage
        return StreamingResponse(iter([orjson.dumps(final) + b"\n"]), media_type="application/x-ndjson")
    if call.doc.get("stream") is False:
        final["message"]["content"] = call.canned.reply_text
        return json_response(call, final, usage=usage)
    lines = [
        orjson.dumps(
            {"model": model, "created_at": "2023-11-14T22:13:20Z", "message": {"role": "assistant", "content": word}, "done": False}
        )
        + b"\n"
        for word in call.canned.words
    ]
    lines.append(orjson.dumps(final) + b"\n")
    cut_after = call.behaviour.after if call.kind == "cut" else None

    async def body() -> Any:
        for sent, line in enumerate(lines):
            if cut_after is not None and sent >= cut_after:
                raise StreamCut()
            yield line
        call.record.served_usage = usage

    return StreamingResponse(body(), media_type="application/x-ndjson")


def embed(call: Call) -> Response:
    doc = call.doc
    if not isinstance(doc, dict) or not isinstance(doc.get("model"), str):
        return _error(400, "model is required")
    raw = doc.get("input")
    inputs = [raw] if isinstance(raw, str) else raw
    if not isinstance(inputs, list) or not all(isinstance(i, str) for i in inputs):
        return _error(400, "invalid input type")
    tokens = call.canned.embedding_tokens_per_input * len(inputs)
    answer = {
        "model": doc["model"],
        "embeddings": [vector(text) for text in inputs],
        "total_duration": 14143917,
        "load_duration": 1019500,
        "prompt_eval_count": tokens,
    }
    return json_response(call, answer, usage={"prompt_tokens": tokens, "completion_tokens": 0, "total_tokens": tokens})


def dispatch(call: Call, path: str) -> Response | None:
    if call.request.method != "POST":
        return None
    if path == "/api/chat":
        return chat(call)
    if path == "/api/embed":
        return embed(call)
    return None
