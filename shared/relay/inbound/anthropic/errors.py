"""Errors in Anthropic's shape: {"type": "error", "error": {"type", "message"}} (the SDKs read the
status for the exception class and these two fields for its text)."""

from __future__ import annotations

from typing import Any

from shared.relay.types import RelayError

TYPES = {
    400: "invalid_request_error",
    401: "authentication_error",
    402: "billing_error",
    403: "permission_error",
    404: "not_found_error",
    413: "request_too_large",
    429: "rate_limit_error",
    500: "api_error",
    529: "overloaded_error",
}


def error_type(status: int) -> str:
    return TYPES.get(status, "invalid_request_error" if 400 <= status < 500 else "api_error")


def error_body(error: RelayError, request_id: str = "") -> dict[str, Any]:
    message = error.body(request_id)["error"]["message"]
    return {"type": "error", "error": {"type": error_type(error.status), "message": message}}


def stream_error(payload: Any, status: int = 500) -> dict[str, Any]:
    """An OpenAI-style `{"error": {...}}` met mid-stream -> the body of an Anthropic `error` event."""
    inner = payload.get("error") if isinstance(payload, dict) else None
    message = inner.get("message") if isinstance(inner, dict) else None
    return {"type": "error", "error": {"type": error_type(status), "message": str(message or "upstream error")}}


def upstream_broke_off(message: str) -> dict[str, Any]:
    return {"type": "error", "error": {"type": "api_error", "message": f"the upstream stream broke off: {message}"}}
