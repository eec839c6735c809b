"""The fake Alibaba DashScope API: text-generation (JSON, or SSE when `X-DashScope-SSE: enable`)
and text-embedding, in DashScope's native shapes. It checks the Bearer key and the body shape
(`input.messages`, `parameters.result_format`) as the real service does."""

from __future__ import annotations

from typing import Any

import orjson
from starlette.responses import Response

from tests.fake_upstream.common import Call, json_response, sse_response, vector

KEY = "sk-fake-dashscope"
CHAT_PATH = "/api/v1/services/aigc/text-generation/generation"
EMBEDDINGS_PATH = "/api/v1/services/embeddings/text-embedding/text-embedding"

ERRORS: dict[str, tuple[int, str, str]] = {
    "500": (500, "InternalError", "An internal error has occured, please try again later."),
    "429": (429, "Throttling.RateQuota", "Requests rate limit exceeded, please try again later."),
    "401": (401, "InvalidApiKey", "Invalid API-key provided."),
    "400": (400, "InvalidParameter", "Input should be a valid dictionary."),
    "quota": (400, "Arrearage", "Access denied, please make sure your account is in good standing."),
    "error200": (200, "InternalError", "An internal error has occured."),
}


def error_response(kind: str, override: str | None = None) -> Response:
    status, code, message = ERRORS[kind]
    body = {"code": code, "message": message if override is None else override, "request_id": "fake-request"}
    return Response(orjson.dumps(body), status_code=status, media_type="application/json")


def dispatch(call: Call, path: str) -> Response | None:
    if call.request.headers.get("authorization") != f"Bearer {KEY}":
        return error_response("401")
    if path == EMBEDDINGS_PATH:
        texts = call.field("input", {}).get("texts") if isinstance(call.field("input"), dict) else None
        if not isinstance(texts, list) or not texts:
            return error_response("400", "input.texts is required")
        total = call.canned.embedding_tokens_per_input * len(texts)
        answer = {
            "output": {"embeddings": [{"text_index": i, "embedding": vector(t)} for i, t in enumerate(texts)]},
            "usage": {"total_tokens": total},
            "request_id": "fake-request",
        }
        return json_response(call, answer, usage={"prompt_tokens": total, "completion_tokens": 0, "total_tokens": total})
    if path != CHAT_PATH:
        return None
    messages = call.field("input", {}).get("messages") if isinstance(call.field("input"), dict) else None
    parameters = call.field("parameters")
    if not isinstance(messages, list) or not isinstance(parameters, dict) or parameters.get("result_format") != "message":
        return error_response("400")
    if call.request.headers.get("x-dashscope-sse") == "enable":
        return _stream(call, incremental=parameters.get("incremental_output") is True)
    answer = {
        "output": {"choices": [{"finish_reason": "stop", "message": {"role": "assistant", "content": call.canned.reply_text}}]},
        "usage": _usage(call, call.canned.completion_tokens),
        "request_id": "fake-request",
    }
    return json_response(call, answer, usage=_openai_usage(call))


def _usage(call: Call, output: int) -> dict[str, int]:
    prompt = call.canned.prompt_tokens
    return {"input_tokens": prompt, "output_tokens": output, "total_tokens": prompt + output}


def _openai_usage(call: Call) -> dict[str, int]:
    prompt, completion = call.canned.prompt_tokens, call.canned.completion_tokens
    return {"prompt_tokens": prompt, "completion_tokens": completion, "total_tokens": prompt + completion}


def _stream(call: Call, incremental: bool) -> Response:
    words = call.canned.words
    events: list[tuple[bytes, dict[str, int] | None]] = []
    sent = ""
    for index, word in enumerate(words, start=1):
        last = index == len(words)
        sent += word
        output = call.canned.completion_tokens if last else index
        event: dict[str, Any] = {
            "output": {
                "choices": [
                    {
                        "message": {"content": word if incremental else sent, "role": "assistant"},
                        "finish_reason": "stop" if last else "null",
                    }
                ]
            },
            "usage": _usage(call, output),
            "request_id": "fake-request",
        }
        frame = f"id:{index}\nevent:result\n:HTTP_STATUS/200\ndata:".encode() + orjson.dumps(event) + b"\n\n"
        events.append((frame, _openai_usage(call) if last else None))
    return sse_response(call, events)
