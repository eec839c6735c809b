"""OpenAI chat/embeddings <-> Baidu ERNIE (wenxinworkshop) bodies, answers and SSE chunks."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import orjson

from shared.redact import redact_error
from shared.relay.adaptors.common import content_text, conversion_error, now, sse_json
from shared.relay.types import ConvertedResponse, RelayError, RelayMeta, Usage

# One API's model -> endpoint table; other models use their lower-cased name.
ENDPOINTS = {
    "ERNIE-4.0-8K": "completions_pro",
    "ERNIE-3.5-8K": "completions",
    "ERNIE-3.5-8K-0205": "ernie-3.5-8k-0205",
    "ERNIE-3.5-8K-1222": "ernie-3.5-8k-1222",
    "ERNIE-Bot-8K": "ernie_bot_8k",
    "ERNIE-3.5-4K-0205": "ernie-3.5-4k-0205",
    "ERNIE-Speed-8K": "ernie_speed",
    "ERNIE-Speed-128K": "ernie-speed-128k",
    "ERNIE-Lite-8K-0922": "eb-instant",
    "ERNIE-Lite-8K-0308": "ernie-lite-8k",
    "ERNIE-Tiny-8K": "ernie-tiny-8k",
    "BLOOMZ-7B": "bloomz_7b1",
    "Embedding-V1": "embedding-v1",
    "bge-large-zh": "bge_large_zh",
    "bge-large-en": "bge_large_en",
    "tao-8k": "tao_8k",
}

TOKEN_ERRORS = {110, 111}  # access token invalid / expired
_RATE_ERRORS = {4, 17, 18, 19, 336501, 336502}


def endpoint(model: str) -> str:
    return ENDPOINTS.get(model) or model.lower()


def _number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def chat_request(body: dict[str, Any], stream: bool) -> dict[str, Any]:
    system: list[str] = []
    messages = []
    for message in body.get("messages") or []:
        if not isinstance(message, dict):
            raise conversion_error("invalid message")
        text = content_text(message.get("content"))
        if message.get("role") == "system":
            system.append(text)
        else:
            messages.append({"role": str(message.get("role") or "user"), "content": text})
    request: dict[str, Any] = {"messages": messages, "stream": stream}
    if system:
        request["system"] = "\n".join(system)
    for source, target in (("temperature", "temperature"), ("top_p", "top_p"), ("frequency_penalty", "penalty_score")):
        if _number(body.get(source)):
            request[target] = body[source]
    if _number(body.get("max_tokens")) and body["max_tokens"] > 0:
        request["max_output_tokens"] = body["max_tokens"]
    if isinstance(body.get("user"), str) and body["user"]:
        request["user_id"] = body["user"]
    return request


def embeddings_request(body: dict[str, Any]) -> dict[str, Any]:
    texts = body.get("input")
    if isinstance(texts, str):
        texts = [texts]
    if not isinstance(texts, list) or not texts or not all(isinstance(t, str) for t in texts):
        raise conversion_error("field input must be a string or a list of strings")
    return {"input": texts}


def error_of(doc: dict[str, Any]) -> RelayError | None:
    """Baidu answers errors with HTTP 200 and `{error_code, error_msg}`."""
    code = doc.get("error_code")
    if not code:
        return None
    message = str(doc.get("error_msg") or f"Baidu error {code}")
    if code in TOKEN_ERRORS:
        return RelayError(401, message, type="authentication_error", code=code)
    if code in _RATE_ERRORS:
        return RelayError(429, message, type="rate_limit_error", code=code)
    if isinstance(code, int) and 336000 <= code < 337000:
        return RelayError(400, message, type="invalid_request_error", code=code)
    return RelayError(500, message, type="baidu_error", code=code)


def _int(value: Any) -> int:
    return value if isinstance(value, int) and not isinstance(value, bool) else 0


def usage_of(raw: Any) -> Usage | None:
    if not isinstance(raw, dict):
        return None
    prompt, completion = _int(raw.get("prompt_tokens")), _int(raw.get("completion_tokens"))
    return Usage(prompt, completion, _int(raw.get("total_tokens")) or prompt + completion)


def _parse(body: bytes) -> dict[str, Any]:
    try:
        doc = orjson.loads(body)
    except orjson.JSONDecodeError as exc:
        raise RelayError(500, f"unmarshal response body failed: {exc}", code="unmarshal_response_body_failed") from exc
    if not isinstance(doc, dict):
        raise RelayError(500, "unexpected upstream response", code="unmarshal_response_body_failed")
    error = error_of(doc)
    if error is not None:
        raise error
    return doc


def chat_response(meta: RelayMeta, status: int, body: bytes) -> ConvertedResponse:
    doc = _parse(body)
    text = str(doc.get("result") or "")
    usage = usage_of(doc.get("usage")) or Usage()
    answer = {
        "id": str(doc.get("id") or "chatcmpl-"),
        "object": "chat.completion",
        "created": _int(doc.get("created")) or now(),
        "model": meta.actual_model,
        "choices": [{"index": 0, "message": {"role": "assistant", "content": text}, "finish_reason": "stop"}],
        "usage": usage.as_dict(),
    }
    return ConvertedResponse(status=status, body=orjson.dumps(answer), usage=usage, text=text)


def embeddings_response(meta: RelayMeta, status: int, body: bytes) -> ConvertedResponse:
    doc = _parse(body)
    data = [
        {"object": "embedding", "index": _int(item.get("index")), "embedding": item.get("embedding") or []}
        for item in doc.get("data") or []
        if isinstance(item, dict)
    ]
    usage = usage_of(doc.get("usage")) or Usage()
    answer = {"object": "list", "data": data, "model": meta.actual_model, "usage": usage.as_dict()}
    return ConvertedResponse(status=status, body=orjson.dumps(answer), usage=usage)


class BaiduStream:
    """`data: {"result": "...", "is_end": false, "usage": {...}}` events; the last has `is_end: true`."""

    def __init__(self, meta: RelayMeta) -> None:
        self.usage: Usage | None = None
        self.text_parts: list[str] = []
        self.saw_done = False
        self._model = meta.actual_model
        self._key = meta.api_key

    def feed(self, line: bytes) -> Iterable[bytes]:
        event = sse_json(line)
        if event is None:
            return ()
        error = error_of(event)
        if error is not None:
            body = {"message": error.message, "type": error.type, "param": "", "code": error.code}
            return (orjson.dumps({"error": redact_error(body, self._key)}),)
        usage = usage_of(event.get("usage"))
        if usage is not None:
            self.usage = usage
        text = str(event.get("result") or "")
        if text:
            self.text_parts.append(text)
        chunk = {
            "id": str(event.get("id") or "chatcmpl-"),
            "object": "chat.completion.chunk",
            "created": _int(event.get("created")) or now(),
            "model": self._model,
            "choices": [{"index": 0, "delta": {"content": text}, "finish_reason": "stop" if event.get("is_end") else None}],
        }
        return (orjson.dumps(chunk),)

    def finish(self) -> Iterable[bytes]:
        return ()
