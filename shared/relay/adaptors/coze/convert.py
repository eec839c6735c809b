"""OpenAI chat <-> Coze's bot chat API v2 (/open_api/v2/chat, docs/one-api-compat.md §5.8, Coze), as One API uses it:
the model names the bot (`bot-<id>` or the id), the last message is the `query`, earlier ones the
`chat_history`; only `answer` messages reach the client. Coze v2 reports no usage, so the gateway
counts the reply (the engine's rule for an answer without usage)."""

from __future__ import annotations

import uuid
from typing import Any

import orjson

from shared.relay.adaptors.common import content_text, conversion_error, now
from shared.relay.adaptors.errors import upstream_error as generic_error
from shared.relay.types import ConvertedResponse, RelayError, RelayMeta

DEFAULT_USER = "one-api"  # Coze requires a user id; used when neither the channel nor the client names one
AUTH_CODES = {4100, 4101, 700012006}  # invalid or expired personal access token
RATE_CODES = {4013, 4016, 4019}  # request rate, concurrency, balance-limited throttling


def bot_id(model: str) -> str:
    return model.removeprefix("bot-")


def convert_request(meta: RelayMeta, body: dict[str, Any]) -> dict[str, Any]:
    messages = body.get("messages")
    if not isinstance(messages, list) or not messages or not all(isinstance(m, dict) for m in messages):
        raise conversion_error("field messages is required")
    history = []
    for message in messages[:-1]:
        role = str(message.get("role") or "user")
        entry = {"role": role, "content": content_text(message.get("content")), "content_type": "text"}
        if role == "assistant":
            entry["type"] = "answer"
        history.append(entry)
    client_user = body.get("user") if isinstance(body.get("user"), str) else ""
    request: dict[str, Any] = {
        "bot_id": bot_id(meta.actual_model),
        "user": meta.config.get("user_id") or client_user or DEFAULT_USER,
        "query": content_text(messages[-1].get("content")),
        "stream": bool(body.get("stream")),
    }
    if history:
        request["chat_history"] = history
    return request


def coze_error(code: Any, message: str) -> RelayError:
    """A Coze `{code, msg}` failure -> an OpenAI-shaped error with a status that says what it is
    (One API passes Coze's HTTP 200 on, so a refused token looked like a success)."""
    if code in AUTH_CODES:
        return RelayError(401, message, type="authentication_error", code=code)
    if code in RATE_CODES:
        return RelayError(429, message, type="rate_limit_error", code=code)
    status = 400 if isinstance(code, int) and 4000 <= code < 5000 else 500
    return RelayError(status, message, type="coze_error", code=code)


def upstream_error(status: int, body: bytes) -> RelayError:
    try:
        doc = orjson.loads(body) if body else None
    except orjson.JSONDecodeError:
        doc = None
    if isinstance(doc, dict) and doc.get("code") not in (None, 0):
        error = coze_error(doc["code"], str(doc.get("msg") or "coze error"))
        if status >= 400 and error.status >= 500:
            error.status = status
        return error
    return generic_error(status, body)


def answer_text(messages: Any) -> str:
    """The first `answer` message's content (follow-ups and verbose messages are Coze's extras)."""
    for message in messages if isinstance(messages, list) else []:
        if isinstance(message, dict) and message.get("type") == "answer" and isinstance(message.get("content"), str):
            return str(message["content"])
    return ""


def convert_response(meta: RelayMeta, status: int, body: bytes) -> ConvertedResponse:
    try:
        doc = orjson.loads(body)
    except orjson.JSONDecodeError as exc:
        raise RelayError(500, f"unmarshal response body failed: {exc}", code="unmarshal_response_body_failed") from exc
    if not isinstance(doc, dict):
        raise RelayError(500, "unexpected upstream response", code="unmarshal_response_body_failed")
    if doc.get("code") not in (None, 0):
        raise coze_error(doc["code"], str(doc.get("msg") or "coze error"))
    text = answer_text(doc.get("messages"))
    answer = {
        "id": f"chatcmpl-{doc.get('conversation_id') or uuid.uuid4().hex}",
        "object": "chat.completion",
        "created": now(),
        "model": meta.actual_model,
        "choices": [{"index": 0, "message": {"role": "assistant", "content": text}, "finish_reason": "stop"}],
    }
    return ConvertedResponse(status=status, body=orjson.dumps(answer), usage=None, text=text)
