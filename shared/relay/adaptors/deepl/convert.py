"""OpenAI chat <-> DeepL /v2/translate (docs/one-api-compat.md §5.8, DeepL): the last user message is translated
into the language the model names (`deepl-zh` -> ZH); usage is DeepL's billed characters, counted
as prompt tokens (the deepl-* model ratios price characters: 12.5 = $25 per million)."""

from __future__ import annotations

import uuid
from typing import Any

import orjson

from shared.relay.adaptors.common import content_text, conversion_error, now
from shared.relay.adaptors.errors import upstream_error as generic_error
from shared.relay.types import RelayError, Usage


def target_language(model: str) -> str:
    """`deepl-zh` -> ZH, `deepl-en-us` -> EN-US; a bare name translates to Chinese, as in One API."""
    _, sep, lang = model.partition("-")
    return lang.upper() if sep and lang else "ZH"


def source_text(body: dict[str, Any]) -> str:
    messages = body.get("messages")
    if not isinstance(messages, list) or not messages:
        raise conversion_error("field messages is required")
    users = [m for m in messages if isinstance(m, dict) and m.get("role") == "user"]
    last = users[-1] if users else messages[-1]
    return content_text(last.get("content")) if isinstance(last, dict) else ""


def convert_request(model: str, body: dict[str, Any]) -> dict[str, Any]:
    return {"text": [source_text(body)], "target_lang": target_language(model), "show_billed_characters": True}


def parse(status: int, body: bytes) -> tuple[str, Usage | None]:
    """A DeepL answer -> (translated text, usage from billed_characters or None)."""
    try:
        doc = orjson.loads(body)
    except orjson.JSONDecodeError as exc:
        raise RelayError(500, f"unmarshal response body failed: {exc}", code="unmarshal_response_body_failed") from exc
    translations = doc.get("translations") if isinstance(doc, dict) else None
    if not isinstance(translations, list):
        message = doc.get("message") if isinstance(doc, dict) else None
        raise RelayError(500, str(message or "unexpected upstream response"), type="deepl_error", code="deepl_error")
    items = [t for t in translations if isinstance(t, dict)]
    text = "".join(str(t.get("text") or "") for t in items)
    billed = sum(t["billed_characters"] for t in items if isinstance(t.get("billed_characters"), int))
    return text, Usage(billed, 0, billed) if billed > 0 else None


def completion(model: str, text: str, usage: Usage | None) -> dict[str, Any]:
    answer: dict[str, Any] = {
        "id": f"chatcmpl-{uuid.uuid4().hex}",
        "object": "chat.completion",
        "created": now(),
        "model": model,
        "choices": [{"index": 0, "message": {"role": "assistant", "content": text}, "finish_reason": "stop"}],
    }
    if usage is not None:
        answer["usage"] = usage.as_dict()
    return answer


def chunk(model: str, text: str) -> dict[str, Any]:
    return {
        "id": f"chatcmpl-{uuid.uuid4().hex}",
        "object": "chat.completion.chunk",
        "created": now(),
        "model": model,
        "choices": [{"index": 0, "delta": {"role": "assistant", "content": text}, "finish_reason": "stop"}],
    }


# DeepL's statuses -> the OpenAI error type with the same meaning (456: the character quota is spent).
ERROR_TYPES = {403: "authentication_error", 456: "insufficient_quota", 429: "rate_limit_error"}


def upstream_error(status: int, body: bytes) -> RelayError:
    """DeepL's error body is `{"message": ...}` (or empty). The status stays DeepL's (as every upstream
    status does); 456 "Quota Exceeded" is typed insufficient_quota so the balance rule can disable
    the channel, 403 authentication_error."""
    error = generic_error(status, body)
    if status in ERROR_TYPES:
        error.type = ERROR_TYPES[status]
        error.code = ERROR_TYPES[status]
    return error
