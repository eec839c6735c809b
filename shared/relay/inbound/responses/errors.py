"""The Responses API's error shapes: HTTP errors are OpenAI's `{"error": {...}}` (RelayError), and a
stream that fails after it started ends with a `response.failed` event whose response carries
`error: {code, message}`."""

from __future__ import annotations

from typing import Any

from shared.relay.types import RelayError


def invalid(message: str, param: str = "") -> RelayError:
    return RelayError(400, message, type="invalid_request_error", param=param, code="invalid_responses_request")


def previous_not_stored() -> RelayError:
    """previous_response_id where the gateway would have to hold the conversation itself."""
    return invalid(
        "previous_response_id is not supported for this response: it was served through chat completions "
        "and the gateway does not store conversations; send the whole conversation in `input`",
        "previous_response_id",
    )


def not_found(response_id: str) -> RelayError:
    return RelayError(404, f"No response found with id '{response_id}'.", type="invalid_request_error", code="response_not_found")


def failure_error(error: Any) -> dict[str, str]:
    """An error object from a chat stream (or a message) -> the `error` of a failed response."""
    if isinstance(error, dict):
        code = error.get("code") or error.get("type") or "server_error"
        return {"code": str(code), "message": str(error.get("message") or "upstream error")}
    return {"code": "server_error", "message": str(error)}
