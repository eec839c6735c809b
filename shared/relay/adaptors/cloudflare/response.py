"""Workers AI answers: the OpenAI-compatible ones pass through (usage read out); the native /run
answer and stream (`{"result": {"response": ...}}`, `data: {"response": ...}`) become text_completion."""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from typing import Any

import orjson

from shared.redact import redact_error
from shared.relay.adaptors.common import DONE, member, now, sse_data
from shared.relay.adaptors.errors import upstream_error as generic_error
from shared.relay.adaptors.openai.response import usage_of
from shared.relay.types import ConvertedResponse, RelayError, RelayMeta, Usage

AUTH_CODES = {10000, 10001, 9106, 9109}  # Cloudflare's "Authentication error" / invalid token codes


def envelope_error(status: int, doc: Any) -> RelayError | None:
    """Cloudflare's API envelope `{"success": false, "errors": [{"code", "message"}]}` -> RelayError."""
    if not isinstance(doc, dict) or not isinstance(doc.get("errors"), list) or not doc["errors"]:
        return None
    first = doc["errors"][0] if isinstance(doc["errors"][0], dict) else {}
    code = first.get("code")
    auth = status in (401, 403) or code in AUTH_CODES
    return RelayError(
        status if status >= 400 else 500,
        str(first.get("message") or f"bad response status code {status}"),
        type="authentication_error" if auth else "cloudflare_error",
        code=code if code is not None else "cloudflare_error",
    )


def upstream_error(status: int, body: bytes) -> RelayError:
    try:
        doc = orjson.loads(body) if body else None
    except orjson.JSONDecodeError:
        doc = None
    return envelope_error(status, doc) or generic_error(status, body)


def convert_run(meta: RelayMeta, status: int, body: bytes) -> ConvertedResponse:
    try:
        doc = orjson.loads(body)
    except orjson.JSONDecodeError as exc:
        raise RelayError(500, f"unmarshal response body failed: {exc}", code="unmarshal_response_body_failed") from exc
    if not isinstance(doc, dict):
        raise RelayError(500, "unexpected upstream response", code="unmarshal_response_body_failed")
    if doc.get("success") is False:
        raise envelope_error(500, doc) or RelayError(500, "unexpected upstream response", code="cloudflare_error")
    result = member(doc, "result")
    text = result.get("response") if isinstance(result.get("response"), str) else ""
    usage = usage_of(result.get("usage"))
    answer: dict[str, Any] = {
        "id": f"cmpl-{uuid.uuid4().hex}",
        "object": "text_completion",
        "created": now(),
        "model": meta.actual_model,
        "choices": [{"text": text, "index": 0, "logprobs": None, "finish_reason": "stop"}],
    }
    if usage is not None:
        answer["usage"] = usage.as_dict()
    return ConvertedResponse(status=status, body=orjson.dumps(answer), usage=usage, text=str(text))


class RunStream:
    """`data: {"response": "..."}` events of /run -> text_completion chunks; the last event may carry usage."""

    def __init__(self, meta: RelayMeta) -> None:
        self.usage: Usage | None = None
        self.text_parts: list[str] = []
        self.saw_done = False
        self._id = f"cmpl-{uuid.uuid4().hex}"
        self._created = now()
        self._model = meta.actual_model
        self._key = meta.api_key

    def _chunk(self, text: str, finish: str | None) -> bytes:
        choice = {"text": text, "index": 0, "logprobs": None, "finish_reason": finish}
        return orjson.dumps(
            {"id": self._id, "object": "text_completion", "created": self._created, "model": self._model, "choices": [choice]}
        )

    def feed(self, line: bytes) -> Iterable[bytes]:
        payload = sse_data(line)
        if not payload:
            return ()
        payload = payload.strip()
        if payload == DONE:
            self.saw_done = True
            return (self._chunk("", "stop"), DONE)
        try:
            doc = orjson.loads(payload)
        except orjson.JSONDecodeError:
            return ()
        if not isinstance(doc, dict):
            return ()
        error = envelope_error(500, doc)
        if error is not None:
            return (orjson.dumps({"error": redact_error(error.body()["error"], self._key)}),)
        usage = usage_of(doc.get("usage"))
        if usage is not None:
            self.usage = usage
        text = doc.get("response")
        if not isinstance(text, str) or not text:
            return ()
        self.text_parts.append(text)
        return (self._chunk(text, None),)

    def finish(self) -> Iterable[bytes]:
        return () if self.saw_done else (self._chunk("", "stop"),)
