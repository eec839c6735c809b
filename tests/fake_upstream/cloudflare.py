"""The fake Cloudflare Workers AI API under /client/v4/accounts/{account_id}/ai/.

What Cloudflare checks: a Bearer API token (400 "Invalid request headers" without one), an account
id of 32 hex digits (404 "Could not route", code 7003), a model it hosts (`@cf/…` or `@hf/…`).
Chat and embeddings are its OpenAI-compatible /v1 endpoints (answered by the OpenAI fake);
/run/{model} is the native API: `{"result": {"response": ...}, "success": true}`, or SSE
`data: {"response": ...}` events with usage in the last one, then `data: [DONE]`. Errors come in the
API envelope `{"success": false, "errors": [{"code", "message"}], "messages": [], "result": null}`."""

from __future__ import annotations

import re
from typing import Any

import orjson
from starlette.responses import Response

from tests.fake_upstream import openai
from tests.fake_upstream.common import Call, data_event, json_response, sse_response, usage_dict

PATH = re.compile(r"^/client/v4/accounts/(?P<account>[^/]+)/ai/(?P<rest>.+)$")
ACCOUNT = re.compile(r"^[0-9a-f]{32}$")
ERRORS: dict[str, tuple[int, int, str]] = {
    "500": (500, 3043, "Internal server error"),
    "429": (429, 3040, "Capacity temporarily exceeded, please try again."),
    "401": (401, 10000, "Authentication error"),
    "400": (400, 5006, "Error: oneOf at '/' not met, 0 matches: required properties at '/' are 'prompt'"),
    "quota": (429, 3036, "Account limited: you have used up your daily free allocation of 10,000 neurons"),
    "error200": (200, 3043, "Internal server error"),
}


def envelope(code: int, message: str) -> dict[str, Any]:
    return {"success": False, "errors": [{"code": code, "message": message}], "messages": [], "result": None}


def error_response(kind: str, override: str | None = None) -> Response:
    status, code, message = ERRORS[kind]
    return _error(status, code, message if override is None else override)


def _error(status: int, code: int, message: str) -> Response:
    return Response(orjson.dumps(envelope(code, message)), status_code=status, media_type="application/json")


def _run(call: Call, model: str) -> Response:
    if not isinstance(call.doc, dict) or not isinstance(call.doc.get("prompt"), str):
        return error_response("400")
    usage = None if call.kind == "no_usage" else usage_dict(call.canned.prompt_tokens, call.canned.completion_tokens)
    if not call.doc.get("stream"):
        result: dict[str, Any] = {"response": call.canned.reply_text}
        if usage:
            result["usage"] = usage
        return json_response(call, {"result": result, "success": True, "errors": [], "messages": []}, usage=usage)
    events: list[tuple[bytes, dict[str, int] | None]] = [
        (data_event({"response": word, "p": "abcdefgh"}), None) for word in call.canned.words
    ]
    last: dict[str, Any] = {"response": ""}
    if usage:
        last["usage"] = usage
    events.append((data_event(last), usage))
    events.append((b"data: [DONE]\n\n", None))
    return sse_response(call, events)


async def dispatch(call: Call, path: str) -> Response | None:
    match = PATH.match(path)
    if match is None:
        return None
    auth = call.request.headers.get("authorization", "")
    if not auth.startswith("Bearer ") or not auth[7:].strip():
        return _error(400, 6003, "Invalid request headers")
    rest = match["rest"]
    if not ACCOUNT.match(match["account"]):
        return _error(404, 7003, f"Could not route to {path}, perhaps your object identifier is invalid?")
    if rest.startswith("run/"):
        model = rest[len("run/") :]
    elif rest in ("v1/chat/completions", "v1/embeddings"):
        model = str(call.field("model") or "")
    else:
        return _error(404, 7000, "No route for that URI")
    if not model.startswith(("@cf/", "@hf/")):
        return _error(400, 5007, f"No such model {model} or task")
    if rest.startswith("run/"):
        return _run(call, model)
    return await openai.dispatch(call, rest)
