"""Upstream error parsing (RelayErrorHandler, docs/one-api-compat.md §5.5) and the auto-disable rule."""

from __future__ import annotations

import orjson
import pytest

from shared.relay.adaptors import should_disable_channel, upstream_error
from shared.relay.types import RelayError


def test_openai_error_object_replaces_the_default_whole() -> None:
    body = {
        "error": {
            "message": "Incorrect API key",
            "type": "invalid_request_error",
            "param": None,
            "code": "invalid_api_key",
        }
    }
    err = upstream_error(401, orjson.dumps(body))
    assert (err.status, err.message, err.type, err.param, err.code) == (
        401,
        "Incorrect API key",
        "invalid_request_error",
        "",
        "invalid_api_key",
    )


def test_error_object_keeps_non_string_code_and_missing_type() -> None:
    err = upstream_error(500, b'{"error": {"message": "boom", "code": 42}}')
    assert (err.message, err.type, err.code) == ("boom", "", 42)


@pytest.mark.parametrize(
    "body, message",
    [
        ({"message": "m1"}, "m1"),
        ({"msg": "m2"}, "m2"),
        ({"err": "m3"}, "m3"),
        ({"error_msg": "m4"}, "m4"),
        ({"header": {"message": "m5"}}, "m5"),
        ({"response": {"error": {"message": "m6"}}}, "m6"),
        ({"message": "", "msg": "first non-empty wins"}, "first non-empty wins"),
        ({"error": {"message": ""}, "msg": "fallback after empty error"}, "fallback after empty error"),
    ],
)
def test_fallback_message_fields(body: dict, message: str) -> None:
    err = upstream_error(503, orjson.dumps(body))
    assert (err.status, err.message, err.type, err.param, err.code) == (
        503,
        message,
        "upstream_error",
        "503",
        "bad_response_status_code",
    )


@pytest.mark.parametrize("body", [b"", b"<html>bad gateway</html>", b"{}", b"[1, 2]", b'{"foo": 1}'])
def test_unknown_bodies_get_the_generic_message(body: bytes) -> None:
    err = upstream_error(502, body)
    assert err.body() == {
        "error": {
            "message": "bad response status code 502",
            "type": "upstream_error",
            "param": "502",
            "code": "bad_response_status_code",
        }
    }


def test_anthropic_error_shape() -> None:
    body = {"type": "error", "error": {"type": "authentication_error", "message": "invalid x-api-key"}}
    err = upstream_error(401, orjson.dumps(body))
    assert (err.message, err.type) == ("invalid x-api-key", "authentication_error")


def test_gemini_error_shape_maps_status_to_a_type() -> None:
    body = {
        "error": {
            "code": 400,
            "message": "API key not valid. Please pass a valid API key.",
            "status": "INVALID_ARGUMENT",
        }
    }
    err = upstream_error(400, orjson.dumps(body))
    assert (err.message, err.type, err.code) == (
        "API key not valid. Please pass a valid API key.",
        "invalid_request_error",
        400,
    )
    listed = upstream_error(403, orjson.dumps([{"error": {"code": 403, "message": "denied", "status": "PERMISSION_DENIED"}}]))
    assert (listed.message, listed.type) == ("denied", "permission_error")


def test_bare_string_error_is_used_as_the_message() -> None:
    assert upstream_error(500, b'{"error": "upstream exploded"}').message == "upstream exploded"


@pytest.mark.parametrize(
    "err, status, disable",
    [
        (RelayError(401, "whatever"), 401, True),
        (RelayError(429, "quota", type="insufficient_quota"), 429, True),
        (RelayError(403, "x", type="authentication_error"), 403, True),
        (RelayError(403, "x", type="permission_error"), 403, True),
        (RelayError(403, "x", type="forbidden"), 403, True),
        (RelayError(400, "x", type="invalid_request_error", code="invalid_api_key"), 400, True),
        (RelayError(400, "x", code="account_deactivated"), 400, True),
        (RelayError(400, "Your credit balance is too low to access the Anthropic API."), 400, True),
        (RelayError(400, "API key not valid. Please pass a valid API key."), 400, True),
        (RelayError(402, "账户已欠费"), 402, True),
        (RelayError(403, "Permission denied for this model"), 403, True),
        (RelayError(429, "Rate limit reached", type="requests", code="rate_limit_exceeded"), 429, False),
        (RelayError(500, "The server had an error", type="server_error"), 500, False),
        (RelayError(529, "Overloaded", type="overloaded_error"), 529, False),
        (RelayError(400, "bad", code=400), 400, False),
    ],
)
def test_should_disable_channel(err: RelayError, status: int, disable: bool) -> None:
    assert should_disable_channel(err, status) is disable
