"""Small pieces every adaptor uses: SSE line parsing, OpenAI message content, data: URLs."""

from __future__ import annotations

import base64
import binascii
import time
from typing import Any
from urllib.parse import quote, unquote_to_bytes

import orjson

from shared.relay.types import RelayError

DATA_PREFIX = b"data: "
DONE = b"[DONE]"


def sse_data(line: bytes) -> bytes | None:
    """The payload of an SSE `data:` line (trailing `\\r` removed), or None for any other line."""
    if line.endswith(b"\r"):
        line = line[:-1]
    if line.startswith(DATA_PREFIX):
        return line[len(DATA_PREFIX) :]
    if line.startswith(b"data:"):
        return line[5:]
    return None


def sse_json(line: bytes) -> dict[str, Any] | None:
    """The JSON object of an SSE `data:` line, or None for any other line, `[DONE]` or a payload that
    is not a JSON object (providers' stream converters skip those)."""
    payload = sse_data(line)
    if not payload:
        return None
    try:
        event = orjson.loads(payload)
    except orjson.JSONDecodeError:
        return None
    return event if isinstance(event, dict) else None


def member(doc: dict[str, Any], key: str) -> dict[str, Any]:
    """`doc[key]` when it is a JSON object, else an empty one (upstream JSON is never trusted to have a shape)."""
    value = doc.get(key)
    return value if isinstance(value, dict) else {}


def listed(value: Any) -> list[Any]:
    """`value` when it is a JSON array, else an empty one (`true` where a list belongs iterates nothing)."""
    return value if isinstance(value, list) else []


def json_body(body: dict[str, Any] | None, raw: bytes) -> dict[str, Any]:
    """The client's JSON object for a converting adaptor: the engine's parsed copy, else `raw` parsed."""
    if body is not None:
        return body
    try:
        parsed = orjson.loads(raw)
    except orjson.JSONDecodeError:
        raise conversion_error("request body is not JSON") from None
    if not isinstance(parsed, dict):
        raise conversion_error("request body is not a JSON object")
    return parsed


def now() -> int:
    return int(time.time())


def content_text(content: Any) -> str:
    """The text of an OpenAI message `content`: the string itself, or its text parts joined."""
    if isinstance(content, str):
        return content
    if isinstance(content, list):
        # A text part whose text is null or not a string carries no text (never a TypeError: a 500).
        return "".join(
            text for part in content if isinstance(part, dict) and part.get("type") == "text" and isinstance(text := part.get("text"), str)
        )
    return ""


def content_parts(content: Any) -> list[dict[str, Any]]:
    """An OpenAI message `content` as a list of parts (a string becomes one text part)."""
    if isinstance(content, str):
        return [{"type": "text", "text": content}]
    if isinstance(content, list):
        return [part for part in content if isinstance(part, dict)]
    return []


def image_url_of(part: dict[str, Any]) -> str:
    """The URL of an `image_url` part, in either the object or the legacy string form."""
    value = part.get("image_url")
    if isinstance(value, dict):
        return str(value.get("url") or "")
    return value if isinstance(value, str) else ""


def decode_data_url(url: str) -> tuple[str, str]:
    """`data:<mime>[;base64],<data>` -> (mime type, base64 text). Raises RelayError(400) when malformed."""
    header, sep, payload = url.partition(",")
    if not url.startswith("data:") or not sep:
        raise RelayError(400, "invalid image data url", type="invalid_request_error", code="invalid_image_url")
    meta = header[5:].split(";")
    mime = meta[0] or "image/jpeg"
    if "base64" in meta[1:]:
        try:  # validate so the provider gets a clean 400 from us rather than an opaque one
            base64.b64decode(payload, validate=True)
        except (binascii.Error, ValueError):
            raise RelayError(400, "invalid base64 image data", type="invalid_request_error", code="invalid_image_url") from None
        return mime, payload
    return mime, base64.b64encode(unquote_to_bytes(payload)).decode("ascii")


def image_source(url: str) -> tuple[str, str]:
    """An image part's URL -> (mime, base64). Remote URLs must have been inlined by `inline_images` first."""
    if url.startswith("data:"):
        return decode_data_url(url)
    raise RelayError(400, f"image url was not fetched: {url[:100]}", type="invalid_request_error", code="invalid_image_url")


def path_segment(value: str) -> str:
    """A name (model, deployment) as one URL path segment: `/`, `?`, `#`, `%`, `:` and spaces are
    percent-encoded, so a client's model name cannot reach another path or add a query upstream."""
    return quote(value, safe="")


def unsupported_mode(mode: int) -> RelayError:
    """One API fails the URL step with a 500 `do_request_failed`; being 5xx it is retried, so another
    channel serving the same model in a mode this type lacks still gets its chance."""
    return RelayError(500, "get request url failed: unsupported relay mode", code="do_request_failed")


def conversion_error(message: str) -> RelayError:
    return RelayError(400, message, type="invalid_request_error", code="convert_request_failed")
