"""The fake DeepL API: POST /v2/translate with DeepL's checks and answers.

DeepL reads the key from `Authorization: DeepL-Auth-Key <key>` (403 otherwise), wants `text` as a list
of strings and a `target_lang` it knows (400 otherwise), reports `billed_characters` when asked
(`show_billed_characters`), answers 456 when the character quota is spent, and has no stream."""

from __future__ import annotations

from typing import Any

import orjson
from starlette.responses import Response

from tests.fake_upstream.common import Call, json_response

SCHEME = "DeepL-Auth-Key "
TARGETS = {"ZH", "EN", "EN-US", "EN-GB", "JA", "DE", "FR", "ES", "IT", "KO", "PT-BR", "PT-PT", "RU"}
ERRORS: dict[str, tuple[int, str]] = {
    "500": (500, "Internal server error"),
    "429": (429, "Too many requests"),
    "401": (403, "Forbidden"),
    "400": (400, "Bad request. Reason: Parameter 'text' not specified."),
    "quota": (456, "Quota Exceeded"),
    "error200": (200, "Temporary error, please retry"),
}


def error_response(kind: str, override: str | None = None) -> Response:
    status, message = ERRORS[kind]
    return _message(status, message if override is None else override)


def _message(status: int, message: str) -> Response:
    return Response(orjson.dumps({"message": message}), status_code=status, media_type="application/json")


def translated(text: str, target: str) -> str:
    """The fake's deterministic "translation"."""
    return f"[{target}] {text}"


def translate(call: Call) -> Response:
    if call.request.method != "POST":
        return _message(405, "Method Not Allowed")
    auth = call.request.headers.get("authorization", "")
    if not auth.startswith(SCHEME) or not auth[len(SCHEME) :].strip():
        return _message(403, "Forbidden")
    doc: Any = call.doc
    texts = doc.get("text") if isinstance(doc, dict) else None
    if not isinstance(texts, list) or not texts or not all(isinstance(t, str) for t in texts):
        return _message(400, "Bad request. Reason: Parameter 'text' not specified.")
    target = doc.get("target_lang")
    if not isinstance(target, str) or target.upper() not in TARGETS:
        return _message(400, "Value for 'target_lang' not supported.")
    billed = doc.get("show_billed_characters") is True
    translations = []
    for text in texts:
        item: dict[str, Any] = {"detected_source_language": "EN", "text": translated(text, target.upper())}
        if billed:
            item["billed_characters"] = len(text)
        translations.append(item)
    chars = sum(len(t) for t in texts)
    return json_response(
        call, {"translations": translations}, usage={"prompt_tokens": chars, "completion_tokens": 0, "total_tokens": chars}
    )
