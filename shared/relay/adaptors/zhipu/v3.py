"""Zhipu's older model-api (v3), used for the non-`glm-*` models (chatglm_*): its request body, its
`{code, msg, success, data}` answer and its SSE framing (`event:add` text, then `meta:` usage)."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import orjson

from shared.redact import redact_error
from shared.relay.adaptors.common import content_text, member, now
from shared.relay.types import ConvertedResponse, RelayError, RelayMeta, Usage

# Zhipu's documented error codes -> HTTP statuses (auth failures disable the channel; rate limits rest it).
_AUTH_CODES = {1000, 1001, 1002, 1003, 1004}
_RATE_CODES = {1302, 1303, 1305}
_QUOTA_CODES = {1113}


def convert_request(body: dict[str, Any]) -> dict[str, Any]:
    prompt = [
        {"role": str(m.get("role") or "user"), "content": content_text(m.get("content"))}
        for m in body.get("messages") or []
        if isinstance(m, dict)
    ]
    request: dict[str, Any] = {"prompt": prompt, "incremental": True}
    for key in ("temperature", "top_p"):
        if isinstance(body.get(key), (int, float)) and not isinstance(body.get(key), bool):
            request[key] = body[key]
    return request


def _int(value: Any) -> int:
    return value if isinstance(value, int) and not isinstance(value, bool) else 0


def usage_of(raw: Any) -> Usage | None:
    if not isinstance(raw, dict):
        return None
    prompt, completion = _int(raw.get("prompt_tokens")), _int(raw.get("completion_tokens"))
    return Usage(prompt, completion, _int(raw.get("total_tokens")) or prompt + completion)


def error_of(code: Any, message: str) -> RelayError:
    number = _int(code) if not isinstance(code, str) else (int(code) if code.isdigit() else 0)
    if number in _AUTH_CODES:
        status, kind = 401, "authentication_error"
    elif number in _QUOTA_CODES:
        status, kind = 429, "insufficient_quota"
    elif number in _RATE_CODES:
        status, kind = 429, "rate_limit_error"
    elif 1200 <= number < 1300:
        status, kind = 400, "invalid_request_error"
    else:
        status, kind = 500, "zhipu_error"
    return RelayError(status, message or f"Zhipu error {code}", type=kind, code=code)


def convert_response(meta: RelayMeta, status: int, body: bytes) -> ConvertedResponse:
    try:
        doc = orjson.loads(body)
    except orjson.JSONDecodeError as exc:
        raise RelayError(500, f"unmarshal response body failed: {exc}", code="unmarshal_response_body_failed") from exc
    if not isinstance(doc, dict):
        raise RelayError(500, "unexpected upstream response", code="unmarshal_response_body_failed")
    if doc.get("success") is not True:
        raise error_of(doc.get("code"), str(doc.get("msg") or ""))
    data = member(doc, "data")
    choices = []
    texts = []
    for index, choice in enumerate(data.get("choices") or []):
        if not isinstance(choice, dict):
            continue
        # v3 returns the text JSON-quoted ("\"Hello\""): the quotes are not part of the answer.
        text = str(choice.get("content") or "").strip('"')
        texts.append(text)
        message = {"role": str(choice.get("role") or "assistant"), "content": text}
        choices.append({"index": index, "message": message, "finish_reason": "stop"})
    usage = usage_of(data.get("usage")) or Usage()
    answer = {
        "id": f"chatcmpl-{data.get('task_id') or ''}",
        "object": "chat.completion",
        "created": now(),
        "model": meta.actual_model,
        "choices": choices,
        "usage": usage.as_dict(),
    }
    return ConvertedResponse(status=status, body=orjson.dumps(answer), usage=usage, text="".join(texts))


class V3Stream:
    """`event:add` + `data:<text>` pieces, then `event:finish` with a `meta:{…usage…}` line."""

    def __init__(self, meta: RelayMeta) -> None:
        self.usage: Usage | None = None
        self.text_parts: list[str] = []
        self.saw_done = False
        self._model = meta.actual_model
        self._created = now()
        self._id = "chatcmpl-"
        self._event = "add"
        self._key = meta.api_key  # an error event may echo it (shared.redact)

    def _chunk(self, delta: dict[str, Any], finish: str | None = None) -> bytes:
        return orjson.dumps(
            {
                "id": self._id,
                "object": "chat.completion.chunk",
                "created": self._created,
                "model": self._model,
                "choices": [{"index": 0, "delta": delta, "finish_reason": finish}],
            }
        )

    def feed(self, line: bytes) -> Iterable[bytes]:
        if line.endswith(b"\r"):
            line = line[:-1]
        if line.startswith(b"event:"):
            self._event = line[6:].strip().decode("utf-8", "replace")
            return ()
        if line.startswith(b"id:"):
            self._id = "chatcmpl-" + line[3:].strip().decode("utf-8", "replace")
            return ()
        if line.startswith(b"data:"):
            text = line[5:].decode("utf-8", "replace")
            if self._event in ("error", "interrupted"):
                error = {"message": text or "Zhipu stream interrupted", "type": "zhipu_error", "param": "", "code": self._event}
                return (orjson.dumps({"error": redact_error(error, self._key)}),)
            if not text or self._event == "finish":
                return ()
            self.text_parts.append(text)
            return (self._chunk({"content": text}),)
        if line.startswith(b"meta:"):
            try:
                meta = orjson.loads(line[5:])
            except orjson.JSONDecodeError:
                return ()
            if isinstance(meta, dict):
                self.usage = usage_of(meta.get("usage"))
            return (self._chunk({}, "stop"),)
        return ()

    def finish(self) -> Iterable[bytes]:
        return ()
