"""OpenAI chat/embeddings <-> Hunyuan's ChatCompletions / GetEmbedding (API version 2023-09-01),
whose fields are PascalCase and whose answers sit under `Response` (errors too, with HTTP 200)."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import orjson

from shared.redact import redact_error
from shared.relay.adaptors.common import content_text, conversion_error, member, now, sse_json
from shared.relay.types import ConvertedResponse, RelayError, RelayMeta, Usage


def _number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def chat_request(meta: RelayMeta, body: dict[str, Any]) -> dict[str, Any]:
    messages = []
    for message in body.get("messages") or []:
        if not isinstance(message, dict):
            raise conversion_error("invalid message")
        messages.append({"Role": str(message.get("role") or "user"), "Content": content_text(message.get("content"))})
    request: dict[str, Any] = {"Model": meta.actual_model, "Messages": messages, "Stream": bool(meta.is_stream)}
    if _number(body.get("temperature")):
        request["Temperature"] = body["temperature"]
    if _number(body.get("top_p")):
        request["TopP"] = body["top_p"]
    return request


def embeddings_request(body: dict[str, Any]) -> dict[str, Any]:
    texts = body.get("input")
    if isinstance(texts, str):
        texts = [texts]
    if not isinstance(texts, list) or not texts or not all(isinstance(t, str) for t in texts):
        raise conversion_error("field input must be a string or a list of strings")
    return {"InputList": texts}


def error_of(status: int, error: dict[str, Any]) -> RelayError:
    code = str(error.get("Code") or "")
    message = str(error.get("Message") or code or "Tencent error")
    if code.startswith("AuthFailure"):
        return RelayError(401, message, type="authentication_error", code=code)
    if code.startswith(("RequestLimitExceeded", "LimitExceeded")):
        return RelayError(429, message, type="rate_limit_error", code=code)
    if code.startswith(("ResourceInsufficient", "FailedOperation.ServiceNotActivated", "ResourceUnavailable")):
        return RelayError(403, message, type="insufficient_quota", code=code)
    if code.startswith(("InvalidParameter", "MissingParameter", "UnknownParameter")):
        return RelayError(400, message, type="invalid_request_error", code=code)
    return RelayError(status if status >= 500 else 500, message, type="tencent_error", code=code)


def parse_error(status: int, body: bytes) -> RelayError:
    """A non-200 answer, or a JSON answer to a stream: `{"Response": {"Error": {Code, Message}}}`."""
    try:
        doc = orjson.loads(body) if body else None
    except orjson.JSONDecodeError:
        doc = None
    error = member(member(doc, "Response"), "Error") if isinstance(doc, dict) else {}
    if error:
        return error_of(status, error)
    return RelayError(
        status if status >= 400 else 500, f"bad response status code {status}", type="upstream_error", code="bad_response_status_code"
    )


def _int(value: Any) -> int:
    return value if isinstance(value, int) and not isinstance(value, bool) else 0


def usage_of(raw: Any) -> Usage | None:
    if not isinstance(raw, dict):
        return None
    prompt, completion = _int(raw.get("PromptTokens")), _int(raw.get("CompletionTokens"))
    return Usage(prompt, completion, _int(raw.get("TotalTokens")) or prompt + completion)


def _response(status: int, body: bytes) -> dict[str, Any]:
    try:
        doc = orjson.loads(body)
    except orjson.JSONDecodeError as exc:
        raise RelayError(500, f"unmarshal response body failed: {exc}", code="unmarshal_response_body_failed") from exc
    response = member(doc, "Response") if isinstance(doc, dict) else {}
    if not response:
        raise RelayError(500, "unexpected upstream response", code="unmarshal_response_body_failed")
    error = member(response, "Error")
    if error:
        raise error_of(status, error)
    return response


def chat_response(meta: RelayMeta, status: int, body: bytes) -> ConvertedResponse:
    response = _response(status, body)
    choices, texts = [], []
    for index, choice in enumerate(response.get("Choices") or []):
        if not isinstance(choice, dict):
            continue
        text = str(member(choice, "Message").get("Content") or "")
        texts.append(text)
        choices.append(
            {"index": index, "message": {"role": "assistant", "content": text}, "finish_reason": choice.get("FinishReason") or "stop"}
        )
    usage = usage_of(response.get("Usage")) or Usage()
    answer = {
        "id": str(response.get("Id") or "chatcmpl-"),
        "object": "chat.completion",
        "created": _int(response.get("Created")) or now(),
        "model": meta.actual_model,
        "choices": choices,
        "usage": usage.as_dict(),
    }
    return ConvertedResponse(status=status, body=orjson.dumps(answer), usage=usage, text="".join(texts))


def embeddings_response(meta: RelayMeta, status: int, body: bytes) -> ConvertedResponse:
    response = _response(status, body)
    data = [
        {"object": "embedding", "index": _int(item.get("Index")), "embedding": item.get("Embedding") or []}
        for item in response.get("Data") or []
        if isinstance(item, dict)
    ]
    usage = usage_of(response.get("Usage")) or Usage()
    answer = {"object": "list", "data": data, "model": meta.actual_model, "usage": usage.as_dict()}
    return ConvertedResponse(status=status, body=orjson.dumps(answer), usage=usage)


class HunyuanStream:
    """`data: {"Choices": [{"Delta": {...}, "FinishReason": ""}], "Usage": {...}}` events."""

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
        error = member(event, "ErrorMsg") or member(member(event, "Response"), "Error")
        if error:
            relay = error_of(500, {"Code": error.get("Code"), "Message": error.get("Msg") or error.get("Message")})
            body = {"message": relay.message, "type": relay.type, "param": "", "code": relay.code}
            return (orjson.dumps({"error": redact_error(body, self._key)}),)
        usage = usage_of(event.get("Usage"))
        if usage is not None and usage.total_tokens:
            self.usage = usage
        out = []
        for index, choice in enumerate(event.get("Choices") or []):
            if not isinstance(choice, dict):
                continue
            text = str(member(choice, "Delta").get("Content") or "")
            if text:
                self.text_parts.append(text)
            chunk = {
                "id": str(event.get("Id") or "chatcmpl-"),
                "object": "chat.completion.chunk",
                "created": _int(event.get("Created")) or now(),
                "model": self._model,
                "choices": [{"index": index, "delta": {"content": text}, "finish_reason": choice.get("FinishReason") or None}],
            }
            out.append(orjson.dumps(chunk))
        return out

    def finish(self) -> Iterable[bytes]:
        return ()
