"""The fake Cohere chat API v1 (POST /v1/chat): a Bearer key, the v1 body shape (`message`,
`chat_history` with USER/CHATBOT/SYSTEM roles, no OpenAI `messages`), answers with
`meta.billed_units`, and streams as newline-delimited JSON events (application/stream+json)."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import Any

import orjson
from starlette.responses import Response, StreamingResponse

from tests.fake_upstream.common import Call, StreamCut, json_response, vector

PATH = "/v1/chat"
ERRORS: dict[str, tuple[int, str]] = {
    "500": (500, "internal server error, this has been reported to our developers"),
    "429": (429, "You are using a Trial key, which is limited to 10 API calls / minute."),
    "401": (401, "invalid api token"),
    "400": (400, "invalid request: message must be a non-empty string"),
    "quota": (402, "Please add a payment method to your account: your credit balance is exhausted."),
    "error200": (500, "internal server error"),
}


def error_response(kind: str, override: str | None = None) -> Response:
    status, message = ERRORS[kind]
    return Response(orjson.dumps({"message": message if override is None else override}), status_code=status, media_type="application/json")


def _bad(message: str) -> Response:
    return Response(orjson.dumps({"message": message}), status_code=400, media_type="application/json")


def _meta(call: Call) -> dict[str, Any]:
    prompt, completion = call.canned.prompt_tokens, call.canned.completion_tokens
    billed = {} if call.kind == "no_usage" else {"input_tokens": prompt, "output_tokens": completion}
    return {"api_version": {"version": "1"}, "billed_units": billed, "tokens": {"input_tokens": prompt + 60, "output_tokens": completion}}


def chat(call: Call) -> Response:
    if not call.request.headers.get("authorization", "").startswith("Bearer ") or not call.record.key:
        return error_response("401", "no api key supplied")
    doc = call.doc
    if not isinstance(doc, dict) or "messages" in doc:
        return _bad("invalid request: unknown field: parameter messages is not a valid field")
    if not isinstance(doc.get("message"), str) or not doc["message"]:
        return error_response("400")
    for entry in doc.get("chat_history") or []:
        if (
            not isinstance(entry, dict)
            or entry.get("role") not in ("USER", "CHATBOT", "SYSTEM")
            or not isinstance(entry.get("message"), str)
        ):
            return _bad("invalid request: chat_history entries need role USER, CHATBOT or SYSTEM and a message")
    served = (
        None
        if call.kind == "no_usage"
        else {
            "prompt_tokens": call.canned.prompt_tokens,
            "completion_tokens": call.canned.completion_tokens,
            "total_tokens": call.canned.prompt_tokens + call.canned.completion_tokens,
        }
    )
    response = {
        "response_id": "c0h3r3-resp",
        "text": call.canned.reply_text,
        "generation_id": "c0h3r3-gen",
        "chat_history": [*(doc.get("chat_history") or []), {"role": "USER", "message": doc["message"]}],
        "finish_reason": "COMPLETE",
        "meta": _meta(call),
    }
    if not doc.get("stream"):
        return json_response(call, response, usage=served)
    events: list[dict[str, Any]] = [{"is_finished": False, "event_type": "stream-start", "generation_id": "c0h3r3-gen"}]
    events += [{"is_finished": False, "event_type": "text-generation", "text": word} for word in call.canned.words]
    end = {"is_finished": True, "event_type": "stream-end", "finish_reason": "COMPLETE", "response": response}
    if call.kind == "stream_error":
        events = events[: call.behaviour.after if call.behaviour else 2]
        end = {
            "is_finished": True,
            "event_type": "stream-end",
            "finish_reason": "ERROR",
            "error": "the model failed to generate",
            "response": {**response, "meta": _meta(call)},
        }
    events.append(end)
    cut_after = call.behaviour.after if call.kind == "cut" and call.behaviour else None

    async def body() -> AsyncIterator[bytes]:
        for sent, event in enumerate(events):
            if cut_after is not None and sent >= cut_after:
                raise StreamCut()
            yield orjson.dumps(event) + b"\n"
            if event["event_type"] == "stream-end":
                call.record.served_usage = served
            await asyncio.sleep(0)

    return StreamingResponse(body(), media_type="application/stream+json")


EMBED_PATH = "/v1/embed"


def embed(call: Call) -> Response:
    if not call.request.headers.get("authorization", "").startswith("Bearer ") or not call.record.key:
        return error_response("401", "no api key supplied")
    texts = call.field("texts")
    if not isinstance(texts, list) or not texts or not all(isinstance(t, str) for t in texts):
        return _bad("invalid request: texts must be a non-empty array of strings")
    if "v3" in str(call.field("model")) and call.field("input_type") not in (
        "search_document",
        "search_query",
        "classification",
        "clustering",
    ):
        return _bad("invalid request: valid input_type must be provided with the provided model")
    tokens = call.canned.embedding_tokens_per_input * len(texts)
    answer = {
        "id": "c0h3r3-embed",
        "embeddings": [vector(t) for t in texts],
        "texts": texts,
        "meta": {"api_version": {"version": "1"}, "billed_units": {"input_tokens": tokens}},
    }
    return json_response(call, answer, usage={"prompt_tokens": tokens, "completion_tokens": 0, "total_tokens": tokens})
