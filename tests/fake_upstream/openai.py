"""The fake OpenAI (and Azure OpenAI) API."""

from __future__ import annotations

import base64
from typing import Any

import orjson
from starlette.responses import Response

from tests.fake_upstream.common import (
    CREATED,
    TOOL_ARGUMENTS,
    Call,
    data_event,
    json_response,
    sse_response,
    usage_dict,
    vector,
    wants_tool_call,
)

ERRORS: dict[str, tuple[int, dict[str, Any]]] = {
    "500": (
        500,
        {
            "message": "The server had an error while processing your request.",
            "type": "server_error",
            "param": None,
            "code": None,
        },
    ),
    "429": (
        429,
        {
            "message": "Rate limit reached for requests.",
            "type": "requests",
            "param": None,
            "code": "rate_limit_exceeded",
        },
    ),
    "401": (
        401,
        {
            "message": "Incorrect API key provided. You can find your API key at https://platform.openai.com/account/api-keys.",
            "type": "invalid_request_error",
            "param": None,
            "code": "invalid_api_key",
        },
    ),
    "400": (
        400,
        {"message": "Invalid request (fake upstream).", "type": "invalid_request_error", "param": None, "code": None},
    ),
    "quota": (
        429,
        {
            "message": "You exceeded your current quota, please check your plan and billing details.",
            "type": "insufficient_quota",
            "param": None,
            "code": "insufficient_quota",
        },
    ),
    "error200": (
        200,
        {"message": "The engine is currently overloaded (fake).", "type": "server_error", "param": None, "code": None},
    ),
}

MODELS = ["gpt-3.5-turbo", "gpt-4o", "gpt-4o-mini", "text-embedding-3-small", "dall-e-3", "whisper-1", "tts-1"]


def error_response(kind: str, override: str | None = None) -> Response:
    status, error = ERRORS[kind]
    if override is not None:
        error = {**error, "message": override}
    return Response(orjson.dumps({"error": error}), status_code=status, media_type="application/json")


def _usage(call: Call) -> dict[str, int] | None:
    return None if call.kind == "no_usage" else usage_dict(call.canned.prompt_tokens, call.canned.completion_tokens)


def _model(call: Call, default: str) -> str:
    return str(call.field("model") or default)


def _tool_call(call: Call) -> dict[str, Any] | None:
    tools = call.field("tools")
    if not wants_tool_call(call.field("messages"), tools):
        return None
    name = tools[0].get("function", {}).get("name", "tool") if isinstance(tools[0], dict) else "tool"
    return {
        "id": "call_fake_0",
        "type": "function",
        "function": {"name": name, "arguments": orjson.dumps(TOOL_ARGUMENTS).decode()},
    }


def chat(call: Call, azure: bool) -> Response:
    model = _model(call, "gpt-3.5-turbo")
    tool = _tool_call(call)
    if call.field("stream"):
        return _chat_stream(call, model, tool, azure)
    message: dict[str, Any] = {"role": "assistant", "content": None if tool else call.canned.reply_text}
    if call.canned.reasoning_text:
        message["reasoning_content"] = call.canned.reasoning_text
    if tool:
        message["tool_calls"] = [tool]
    answer: dict[str, Any] = {
        "id": "chatcmpl-fake",
        "object": "chat.completion",
        "created": CREATED,
        "model": model,
        "choices": [{"index": 0, "message": message, "logprobs": None, "finish_reason": "tool_calls" if tool else "stop"}],
    }
    usage = _usage(call)
    if usage:
        answer["usage"] = usage
    return json_response(call, answer, usage=usage)


def _chat_stream(call: Call, model: str, tool: dict[str, Any] | None, azure: bool) -> Response:
    options = call.field("stream_options")
    include_usage = isinstance(options, dict) and options.get("include_usage") is True and call.kind != "no_usage"
    extra = {"usage": None} if include_usage else {}

    def chunk(delta: dict[str, Any], finish: str | None = None) -> bytes:
        return data_event(
            {
                "id": "chatcmpl-fake",
                "object": "chat.completion.chunk",
                "created": CREATED,
                "model": model,
                "choices": [{"index": 0, "delta": delta, "logprobs": None, "finish_reason": finish}],
                **extra,
            }
        )

    events: list[tuple[bytes, dict[str, int] | None]] = []
    if azure:  # Azure opens with a content-filter chunk that has no choices: gateways must drop it
        events.append(
            (
                data_event({"id": "", "object": "", "created": 0, "model": "", "choices": [], "prompt_filter_results": []}),
                None,
            )
        )
    events.append((chunk({"role": "assistant", "content": ""}), None))
    if call.canned.reasoning_text:
        events.append((chunk({"reasoning_content": call.canned.reasoning_text}), None))
    if tool:
        events.append((chunk({"tool_calls": [{"index": 0, **tool}]}), None))
    else:
        events.extend((chunk({"content": word}), None) for word in call.canned.words)
    events.append((chunk({}, "tool_calls" if tool else "stop"), None))
    if include_usage:
        usage = usage_dict(call.canned.prompt_tokens, call.canned.completion_tokens)
        payload = {
            "id": "chatcmpl-fake",
            "object": "chat.completion.chunk",
            "created": CREATED,
            "model": model,
            "choices": [],
            "usage": usage,
        }
        events.append((data_event(payload), usage))
    events.append((data_event(b"[DONE]"), None))
    return sse_response(call, events)


def completions(call: Call) -> Response:
    model = _model(call, "gpt-3.5-turbo-instruct")
    if call.field("stream"):
        options = call.field("stream_options")
        include_usage = isinstance(options, dict) and options.get("include_usage") is True and call.kind != "no_usage"
        events: list[tuple[bytes, dict[str, int] | None]] = []
        for word in call.canned.words:
            choice = {"text": word, "index": 0, "logprobs": None, "finish_reason": None}
            events.append(
                (
                    data_event(
                        {
                            "id": "cmpl-fake",
                            "object": "text_completion",
                            "created": CREATED,
                            "model": model,
                            "choices": [choice],
                        }
                    ),
                    None,
                )
            )
        if include_usage:
            usage = usage_dict(call.canned.prompt_tokens, call.canned.completion_tokens)
            events.append(
                (
                    data_event(
                        {
                            "id": "cmpl-fake",
                            "object": "text_completion",
                            "created": CREATED,
                            "model": model,
                            "choices": [],
                            "usage": usage,
                        }
                    ),
                    usage,
                )
            )
        events.append((data_event(b"[DONE]"), None))
        return sse_response(call, events)
    answer: dict[str, Any] = {
        "id": "cmpl-fake",
        "object": "text_completion",
        "created": CREATED,
        "model": model,
        "choices": [{"text": call.canned.reply_text, "index": 0, "logprobs": None, "finish_reason": "stop"}],
    }
    usage = _usage(call)
    if usage:
        answer["usage"] = usage
    return json_response(call, answer, usage=usage)


def embeddings(call: Call) -> Response:
    raw = call.field("input", "")
    inputs = [raw] if isinstance(raw, str) else list(raw or [])
    dimensions = call.field("dimensions")
    size = dimensions if isinstance(dimensions, int) and 0 < dimensions <= 4096 else 8
    data = [{"object": "embedding", "index": i, "embedding": vector(str(text), size)} for i, text in enumerate(inputs)]
    tokens = call.canned.embedding_tokens_per_input * len(inputs)
    usage = None if call.kind == "no_usage" else {"prompt_tokens": tokens, "total_tokens": tokens}
    answer: dict[str, Any] = {"object": "list", "data": data, "model": _model(call, "text-embedding-ada-002")}
    if usage:
        answer["usage"] = usage
    return json_response(call, answer, usage=usage)


def moderations(call: Call) -> Response:
    raw = call.field("input", "")
    inputs = [raw] if isinstance(raw, str) else list(raw or [])
    results = [
        {
            "flagged": False,
            "categories": {"hate": False, "violence": False},
            "category_scores": {"hate": 0.0, "violence": 0.0},
        }
        for _ in inputs
    ]
    return json_response(call, {"id": "modr-fake", "model": _model(call, "text-moderation-stable"), "results": results})


def images(call: Call) -> Response:
    n = call.field("n") or 1
    if call.field("response_format") == "b64_json":
        image = (
            base64.b64encode(b"fake-image" * (call.canned.image_bytes // 10)).decode() if call.canned.image_bytes else "ZmFrZS1pbWFnZQ=="
        )
        data = [{"b64_json": image, "revised_prompt": call.field("prompt", "")} for _ in range(n)]
    else:
        data = [{"url": f"https://fake-upstream.invalid/image-{i}.png", "revised_prompt": call.field("prompt", "")} for i in range(n)]
    return json_response(call, {"created": CREATED, "data": data})


def speech(call: Call) -> Response:
    audio = b"ID3FAKEAUDIO" + str(call.field("input", "")).encode()
    return Response(audio, media_type="audio/mpeg")


async def transcription(call: Call) -> Response:
    form = await call.request.form()
    text = call.canned.transcript
    fmt = str(form.get("response_format") or "json")
    if fmt == "text":
        return Response(text + "\n", media_type="text/plain")
    if fmt == "srt":
        return Response(f"1\n00:00:00,000 --> 00:00:02,000\n{text}\n\n", media_type="text/plain")
    if fmt == "vtt":
        return Response(f"WEBVTT\n\n00:00:00.000 --> 00:00:02.000\n{text}\n\n", media_type="text/plain")
    if fmt == "verbose_json":
        segment = {"id": 0, "start": 0.0, "end": 2.0, "text": text}
        return json_response(call, {"task": "transcribe", "language": "english", "duration": 2.0, "text": text, "segments": [segment]})
    return json_response(call, {"text": text})


def models(call: Call) -> Response:
    data = [{"id": m, "object": "model", "created": CREATED, "owned_by": "openai"} for m in MODELS]
    return json_response(call, {"object": "list", "data": data})


async def dispatch(call: Call, task: str, azure: bool = False) -> Response | None:
    """`task` is the path after /v1 (or after the Azure deployment); None when it is not an OpenAI path."""
    if task.endswith("chat/completions") or task.endswith("chatcompletion_v2"):
        return chat(call, azure)
    if task.endswith("completions"):
        return completions(call)
    if task.endswith("embeddings"):
        return embeddings(call)
    if task.endswith("moderations"):
        return moderations(call)
    if task.endswith("images/generations"):
        return images(call)
    if task.endswith("audio/speech"):
        return speech(call)
    if task.endswith("audio/transcriptions") or task.endswith("audio/translations"):
        return await transcription(call)
    if task.endswith("models") and call.request.method == "GET":
        return models(call)
    return None
