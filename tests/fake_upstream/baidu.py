"""The fake Baidu Qianfan API: the OAuth token exchange (`/oauth/2.0/token`, client credentials in
the query) and ERNIE's wenxinworkshop chat/embeddings, which accept only a token this fake issued.
Like Baidu, errors arrive as `{error_code, error_msg}` (with HTTP 200 for API errors)."""

from __future__ import annotations

import itertools
import threading
from typing import Any

import orjson
from starlette.responses import Response

from tests.fake_upstream.common import CREATED, Call, data_event, json_response, sse_response, usage_dict, vector

CLIENTS = {"fake-baidu-ak": "fake-baidu-sk"}
KEY = "fake-baidu-ak|fake-baidu-sk"
LIFETIME = 2592000  # seconds, as Baidu issues them
API_PREFIX = "/rpc/2.0/ai_custom/v1/wenxinworkshop/"

_issued: set[str] = set()
_serial = itertools.count(1)
_lock = threading.Lock()

ERRORS: dict[str, tuple[int, int, str]] = {
    "500": (500, 336100, "internal error"),
    "429": (429, 18, "Open api qps request limit reached"),
    "401": (200, 110, "Access token invalid or no longer valid"),
    "400": (200, 336003, "the first message role must be user"),
    "quota": (200, 17, "Open api daily request limit reached"),
    "error200": (200, 336100, "internal error"),
}


def error_response(kind: str, override: str | None = None) -> Response:
    status, code, message = ERRORS[kind]
    body = {"error_code": code, "error_msg": message if override is None else override}
    return Response(orjson.dumps(body), status_code=status, media_type="application/json")


def revoke_all() -> None:
    """Invalidate every issued token, as an expiry or a key rotation at Baidu would."""
    with _lock:
        _issued.clear()


def token_exchange(call: Call) -> Response:
    params = call.request.query_params
    if params.get("grant_type") != "client_credentials":
        return Response(
            orjson.dumps({"error": "unsupported_grant_type", "error_description": "unsupported grant type"}),
            status_code=400,
            media_type="application/json",
        )
    if CLIENTS.get(params.get("client_id", "")) != params.get("client_secret"):
        return Response(
            orjson.dumps({"error": "invalid_client", "error_description": "Client authentication failed"}),
            status_code=401,
            media_type="application/json",
        )
    with _lock:
        token = f"24.fake{next(_serial):08d}.{LIFETIME}.{CREATED}"
        _issued.add(token)
    answer = {
        "refresh_token": "25.fake",
        "expires_in": LIFETIME,
        "session_key": "fake",
        "access_token": token,
        "scope": "public",
        "session_secret": "fake",
    }
    return Response(orjson.dumps(answer), media_type="application/json")


def dispatch(call: Call, path: str) -> Response | None:
    if path == "/oauth/2.0/token":
        return token_exchange(call)
    if not path.startswith(API_PREFIX):
        return None
    with _lock:
        valid = call.request.query_params.get("access_token") in _issued
    if not valid:
        return error_response("401")
    kind, _, _endpoint = path.removeprefix(API_PREFIX).partition("/")
    if kind == "embeddings":
        texts = call.field("input")
        if not isinstance(texts, list) or not texts:
            return error_response("400", "input is required")
        total = call.canned.embedding_tokens_per_input * len(texts)
        usage = {"prompt_tokens": total, "total_tokens": total}
        answer = {
            "id": "as-fake",
            "object": "embedding_list",
            "created": CREATED,
            "data": [{"object": "embedding", "embedding": vector(t), "index": i} for i, t in enumerate(texts)],
            "usage": usage,
        }
        return json_response(call, answer, usage={**usage, "completion_tokens": 0})
    if kind != "chat":
        return None
    messages = call.field("messages")
    if not isinstance(messages, list) or len(messages) % 2 == 0 or messages[-1].get("role") != "user":
        return error_response("400")
    usage = usage_dict(call.canned.prompt_tokens, call.canned.completion_tokens)
    if call.field("stream"):
        words = call.canned.words
        events: list[tuple[bytes, dict[str, int] | None]] = []
        for index, word in enumerate(words):
            last = index == len(words) - 1
            event: dict[str, Any] = {
                "id": "as-fake",
                "object": "chat.completion",
                "created": CREATED,
                "sentence_id": index,
                "is_end": last,
                "is_truncated": False,
                "result": word,
                "need_clear_history": False,
                "usage": usage if last else usage_dict(call.canned.prompt_tokens, 0),
            }
            events.append((data_event(event), usage if last else None))
        return sse_response(call, events)
    answer = {
        "id": "as-fake",
        "object": "chat.completion",
        "created": CREATED,
        "result": call.canned.reply_text,
        "is_truncated": False,
        "need_clear_history": False,
        "usage": usage,
    }
    return json_response(call, answer, usage=usage)
