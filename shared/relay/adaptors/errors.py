"""Upstream error bodies -> the relay's OpenAI-style error, and the auto-disable rule (docs/one-api-compat.md §5.5)."""

from __future__ import annotations

from typing import Any

import orjson

from shared.relay.types import RelayError

# Gemini (Google RPC) status names -> the OpenAI/Anthropic error type with the same meaning, so the
# auto-disable rule and clients see one vocabulary.
_GOOGLE_STATUS_TYPES = {
    "UNAUTHENTICATED": "authentication_error",
    "PERMISSION_DENIED": "permission_error",
    "INVALID_ARGUMENT": "invalid_request_error",
    "FAILED_PRECONDITION": "invalid_request_error",
    "NOT_FOUND": "not_found_error",
    "RESOURCE_EXHAUSTED": "rate_limit_error",
    "UNAVAILABLE": "server_error",
    "INTERNAL": "server_error",
    "DEADLINE_EXCEEDED": "server_error",
}

_DISABLE_TYPES = {"insufficient_quota", "authentication_error", "permission_error", "forbidden"}
_DISABLE_CODES = {"invalid_api_key", "account_deactivated"}
_DISABLE_PHRASES = (
    "your access was terminated",
    "violation of our policies",
    "your credit balance is too low",
    "organization has been disabled",
    "credit",
    "balance",
    "permission denied",
    "organization has been restricted",
    "api key not valid",
    "api key expired",
    "已欠费",
)


def _text(value: Any) -> str:
    return value if isinstance(value, str) else ""


def _nested(doc: dict[str, Any], *keys: str) -> str:
    value: Any = doc
    for key in keys:
        if not isinstance(value, dict):
            return ""
        value = value.get(key)
    return _text(value)


def _fallback_message(doc: dict[str, Any]) -> str:
    """One API's GeneralErrorResponse.ToMessage order, then a bare string `error` (seen on small proxies)."""
    for candidate in (
        _text(doc.get("message")),
        _text(doc.get("msg")),
        _text(doc.get("err")),
        _text(doc.get("error_msg")),
        _nested(doc, "header", "message"),
        _nested(doc, "response", "error", "message"),
        _text(doc.get("error")),
    ):
        if candidate:
            return candidate
    return ""


def error_from_object(status: int, error: dict[str, Any]) -> RelayError:
    """An upstream `error` object with a message -> RelayError carrying its fields unchanged."""
    err_type = _text(error.get("type"))
    if not err_type and isinstance(error.get("status"), str):  # Gemini: {"code": 400, "status": "..."}
        err_type = _GOOGLE_STATUS_TYPES.get(error["status"], error["status"].lower())
    param = error.get("param")
    return RelayError(
        status=status,
        message=_text(error.get("message")),
        type=err_type,
        param="" if param is None else str(param),
        code=error.get("code"),
    )


def upstream_error(status: int, body: bytes) -> RelayError:
    """Parse a non-2xx upstream answer (or a stream answered with JSON) the way RelayErrorHandler does.

    The whole OpenAI-shaped `error` object wins when it has a message (Anthropic's and Gemini's error
    bodies share that shape); otherwise the first known message field; otherwise a generic text.
    """
    default = RelayError(status=status, message="", type="upstream_error", param=str(status), code="bad_response_status_code")
    try:
        doc = orjson.loads(body) if body else None
    except orjson.JSONDecodeError:
        doc = None
    if isinstance(doc, list) and doc and isinstance(doc[0], dict):  # Gemini's non-SSE stream errors
        doc = doc[0]
    if isinstance(doc, dict):
        error = doc.get("error")
        if isinstance(error, dict) and _text(error.get("message")):
            return error_from_object(status, error)
        default.message = _fallback_message(doc)
    if not default.message:
        default.message = f"bad response status code {status}"
    return default


def error_of(adaptor: object, status: int, body: bytes) -> RelayError:
    """An upstream answer that is an error -> the client's error: the adaptor's own reading when its
    provider has an error format of its own (an `upstream_error` method), else One API's generic one."""
    parse = getattr(adaptor, "upstream_error", None)
    return parse(status, body) if parse is not None else upstream_error(status, body)


def should_disable_channel(err: RelayError, status: int) -> bool:
    """One API's ShouldDisableChannel: auth and balance failures, never rate limits or 5xx as such.
    Whether automatic disabling is switched on is the caller's check."""
    if status == 401:
        return True
    if err.type in _DISABLE_TYPES:
        return True
    if isinstance(err.code, str) and err.code in _DISABLE_CODES:
        return True
    message = err.message.lower()
    return any(phrase in message for phrase in _DISABLE_PHRASES)
