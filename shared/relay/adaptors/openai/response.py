"""Whole (non-stream) OpenAI-family answers: passed to the client unchanged, usage and text read out."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import orjson

from shared.relay import modes
from shared.relay.adaptors.common import content_text
from shared.relay.adaptors.errors import error_from_object
from shared.relay.types import ConvertedResponse, RelayError, Usage


def usage_of(value: Any) -> Usage | None:
    """An OpenAI `usage` object -> Usage, or None when absent or all zero (the engine then counts)."""
    if not isinstance(value, dict):
        return None
    usage = Usage(
        prompt_tokens=_int(value.get("prompt_tokens")),
        completion_tokens=_int(value.get("completion_tokens")),
        total_tokens=_int(value.get("total_tokens")),
    )
    if usage.total_tokens == 0 or (usage.prompt_tokens == 0 and usage.completion_tokens == 0):
        return None
    return usage


def _int(value: Any) -> int:
    return value if isinstance(value, int) and not isinstance(value, bool) else 0


def _content_type(headers: Mapping[str, str], default: str) -> str:
    return headers.get("content-type") or headers.get("Content-Type") or default


def choices_text(doc: dict[str, Any]) -> str:
    parts = []
    for choice in doc.get("choices") or []:
        if not isinstance(choice, dict):
            continue
        if isinstance(choice.get("message"), dict):
            parts.append(content_text(choice["message"].get("content")))
        elif isinstance(choice.get("text"), str):
            parts.append(choice["text"])
    return "".join(parts)


def _srt_or_vtt_text(text: str) -> str:
    """Caption formats -> their spoken text: drop headers, cue numbers, timings and blank lines."""
    lines = []
    for line in text.splitlines():
        line = line.strip()
        if not line or line == "WEBVTT" or "-->" in line or line.isdigit():
            continue
        lines.append(line)
    return "\n".join(lines)


def transcript(status: int, headers: Mapping[str, str], body: bytes) -> ConvertedResponse:
    """Transcription/translation: the text for billing, whatever `response_format` the client chose."""
    content_type = _content_type(headers, "application/json")
    text = body.decode("utf-8", "replace")
    stripped = text.lstrip()
    if stripped.startswith("{"):
        try:
            doc = orjson.loads(body)
        except orjson.JSONDecodeError:
            doc = None
        if isinstance(doc, dict):
            error = doc.get("error")
            if isinstance(error, dict) and error.get("message"):
                raise RelayError(
                    500,
                    f"type {error.get('type', '')}, code {error.get('code')}, message {error['message']}",
                    code="request_error",
                )
            return ConvertedResponse(status, body, content_type, None, str(doc.get("text") or ""))
    first = stripped.split("\n", 2)
    if stripped.startswith("WEBVTT") or (len(first) > 1 and first[0].strip().isdigit() and "-->" in first[1]):
        text = _srt_or_vtt_text(text)
    return ConvertedResponse(status, body, content_type, None, text)


def convert(meta_mode: int, status: int, headers: Mapping[str, str], body: bytes) -> ConvertedResponse:
    if meta_mode in (modes.IMAGES, modes.SPEECH):
        return ConvertedResponse(status, body, _content_type(headers, "application/json"))
    if meta_mode in (modes.TRANSCRIPTION, modes.TRANSLATION):
        return transcript(status, headers, body)
    try:
        doc = orjson.loads(body)
    except orjson.JSONDecodeError as exc:
        raise RelayError(500, f"unmarshal response body failed: {exc}", code="unmarshal_response_body_failed") from exc
    if not isinstance(doc, dict):
        return ConvertedResponse(status, body, _content_type(headers, "application/json"))
    error = doc.get("error")
    if isinstance(error, dict) and error.get("type"):
        raise error_from_object(status, error)
    return ConvertedResponse(
        status=status,
        body=body,
        content_type=_content_type(headers, "application/json"),
        usage=usage_of(doc.get("usage")),
        text=choices_text(doc),
    )
