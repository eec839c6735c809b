"""The fake AI Proxy knowledge-base API: POST /api/library/ask.

What it checks: a Bearer key (401 otherwise), a `libraryId` it knows, a `query` and a `model`
(`success: false` with an `errCode` otherwise). The answer carries the reference documents; the
stream is SSE `data: {"content", "finish", "model", "documents"}` with the documents in the last event."""

from __future__ import annotations

from typing import Any

import orjson
from starlette.responses import Response

from tests.fake_upstream.common import Call, data_event, json_response, sse_response

LIBRARY = "lib-42"
DOCUMENTS = [{"title": "Relay guide", "url": "https://docs.example/relay"}, {"title": "FAQ", "url": "https://docs.example/faq"}]
ERRORS: dict[str, tuple[int, int, str]] = {
    "500": (500, 5000, "internal error"),
    "429": (429, 4290, "too many requests"),
    "401": (401, 4010, "invalid api key"),
    "400": (400, 4000, "query is required"),
    "quota": (402, 4020, "insufficient balance"),
    "error200": (200, 4004, "library not found"),
}


def error_response(kind: str, override: str | None = None) -> Response:
    status, code, message = ERRORS[kind]
    return _failure(status, code, message if override is None else override)


def _failure(status: int, code: int, message: str) -> Response:
    body = {"success": False, "errCode": code, "message": message}
    return Response(orjson.dumps(body), status_code=status, media_type="application/json")


def ask(call: Call) -> Response:
    auth = call.request.headers.get("authorization", "")
    if not auth.startswith("Bearer ") or not auth[7:].strip():
        return _failure(401, 4010, "invalid api key")
    doc: Any = call.doc
    if not isinstance(doc, dict) or not isinstance(doc.get("query"), str) or not doc.get("model"):
        return _failure(200, 4000, "query and model are required")
    if doc.get("libraryId") != LIBRARY:
        return _failure(200, 4004, "library not found")
    reply = call.canned.reply_text
    if not doc.get("stream"):
        return json_response(call, {"success": True, "answer": reply, "documents": DOCUMENTS, "errCode": 0, "message": ""})
    events: list[tuple[bytes, dict[str, int] | None]] = [
        (data_event({"content": word, "finish": False, "model": doc["model"], "documents": []}), None) for word in call.canned.words
    ]
    events.append((data_event({"content": "", "finish": True, "model": doc["model"], "documents": DOCUMENTS}), None))
    return sse_response(call, events)
