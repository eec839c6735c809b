"""OpenAI chat <-> Spark's WebSocket frames: the request frame, the answer frames (one JSON
object each; `header.status` 2 marks the last, which carries `payload.usage.text`)."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import orjson

from shared.redact import redact_error
from shared.relay.adaptors.common import content_text, conversion_error, member, now
from shared.relay.types import ConvertedResponse, RelayError, RelayMeta, Usage

LAST = 2  # header.status of the final frame


def _number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def request_frame(app_id: str, domain: str, body: dict[str, Any]) -> dict[str, Any]:
    texts = []
    for message in body.get("messages") or []:
        if not isinstance(message, dict):
            raise conversion_error("invalid message")
        texts.append({"role": str(message.get("role") or "user"), "content": content_text(message.get("content"))})
    chat: dict[str, Any] = {"domain": domain}
    for key in ("temperature", "top_k", "max_tokens"):
        if _number(body.get(key)) and body[key] > 0:
            chat[key] = body[key]
    frame: dict[str, Any] = {
        "header": {"app_id": app_id},
        "parameter": {"chat": chat},
        "payload": {"message": {"text": texts}},
    }
    if isinstance(body.get("user"), str) and body["user"]:
        frame["header"]["uid"] = body["user"][:32]  # Spark caps uid at 32 characters
    return frame


def error_of(header: dict[str, Any]) -> RelayError | None:
    code = header.get("code")
    if not code:
        return None
    message = str(header.get("message") or f"Xunfei error {code}")
    if code in (11200, 10110):  # no licence / authorisation failed
        return RelayError(401, message, type="authentication_error", code=code)
    if isinstance(code, int) and 11201 <= code <= 11203:  # daily/QPS/concurrency limits
        return RelayError(429, message, type="rate_limit_error", code=code)
    if isinstance(code, int) and 10000 <= code < 11000:
        return RelayError(400, message, type="invalid_request_error", code=code)
    return RelayError(500, message, type="xunfei_error", code=code)


def parse_frame(raw: bytes) -> dict[str, Any] | None:
    try:
        frame = orjson.loads(raw)
    except orjson.JSONDecodeError:
        return None
    return frame if isinstance(frame, dict) else None


def _int(value: Any) -> int:
    return value if isinstance(value, int) and not isinstance(value, bool) else 0


def usage_of(frame: dict[str, Any]) -> Usage | None:
    raw = member(member(frame, "payload"), "usage").get("text")
    if not isinstance(raw, dict):
        return None
    prompt, completion = _int(raw.get("prompt_tokens")), _int(raw.get("completion_tokens"))
    return Usage(prompt, completion, _int(raw.get("total_tokens")) or prompt + completion)


def frame_text(frame: dict[str, Any]) -> str:
    items = member(member(frame, "payload"), "choices").get("text") or []
    return "".join(str(item.get("content") or "") for item in items if isinstance(item, dict))


def parse_error(status: int, body: bytes) -> RelayError:
    """A refused handshake (`{"message": …}` with 401/403) or an error frame."""
    frame = parse_frame(body.split(b"\n", 1)[0]) or {}
    error = error_of(member(frame, "header"))
    if error is not None:
        return error
    message = str(frame.get("message") or f"bad response status code {status}")
    kind = "authentication_error" if status in (401, 403) else "upstream_error"
    return RelayError(status, message, type=kind, code="bad_response_status_code")


def convert_response(meta: RelayMeta, status: int, body: bytes) -> ConvertedResponse:
    texts: list[str] = []
    usage: Usage | None = None
    sid = ""
    for line in body.split(b"\n"):
        frame = parse_frame(line) if line else None
        if frame is None:
            continue
        header = member(frame, "header")
        error = error_of(header)
        if error is not None:
            raise error
        sid = str(header.get("sid") or sid)
        texts.append(frame_text(frame))
        usage = usage_of(frame) or usage
    text = "".join(texts)
    usage = usage or Usage()
    answer = {
        "id": f"chatcmpl-{sid}",
        "object": "chat.completion",
        "created": now(),
        "model": meta.actual_model,
        "choices": [{"index": 0, "message": {"role": "assistant", "content": text}, "finish_reason": "stop"}],
        "usage": usage.as_dict(),
    }
    return ConvertedResponse(status=status, body=orjson.dumps(answer), usage=usage, text=text)


class SparkStream:
    def __init__(self, meta: RelayMeta) -> None:
        self.usage: Usage | None = None
        self.text_parts: list[str] = []
        self.saw_done = False
        self._model = meta.actual_model
        self._key = meta.api_key
        self._created = now()

    def feed(self, line: bytes) -> Iterable[bytes]:
        frame = parse_frame(line) if line else None
        if frame is None:
            return ()
        header = member(frame, "header")
        error = error_of(header)
        if error is not None:
            body = {"message": error.message, "type": error.type, "param": "", "code": error.code}
            return (orjson.dumps({"error": redact_error(body, self._key)}),)
        self.usage = usage_of(frame) or self.usage
        text = frame_text(frame)
        if text:
            self.text_parts.append(text)
        chunk = {
            "id": f"chatcmpl-{header.get('sid') or ''}",
            "object": "chat.completion.chunk",
            "created": self._created,
            "model": self._model,
            "choices": [{"index": 0, "delta": {"content": text}, "finish_reason": "stop" if header.get("status") == LAST else None}],
        }
        return (orjson.dumps(chunk),)

    def finish(self) -> Iterable[bytes]:
        return ()
