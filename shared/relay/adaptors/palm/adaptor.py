"""The PaLM 2 adaptor (channel type 11): OpenAI chat <-> `v1beta2/models/chat-bison-001:generateMessage`.

PaLM has no streaming: as One API does, a stream request gets the whole answer as one chunk (the
adaptor declares `json_stream`, so the engine does not read PaLM's JSON answer as an error).
PaLM reports no token counts: usage is the prompt estimate plus the counted reply (One API's rule).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

import orjson

from shared.billing import tokenizer
from shared.redact import redact_error
from shared.relay import modes
from shared.relay.adaptors.common import content_text, conversion_error, json_body, listed, now, unsupported_mode
from shared.relay.adaptors.errors import error_from_object
from shared.relay.types import ConvertedResponse, RelayError, RelayMeta, UpstreamRequest, Usage

PATH = "/v1beta2/models/chat-bison-001:generateMessage"
MAX_STREAM_BODY = 4 * 1024 * 1024  # the one JSON answer a "stream" collects


def convert_request(body: dict[str, Any]) -> dict[str, Any]:
    messages = body.get("messages")
    if not isinstance(messages, list):
        raise conversion_error("field messages is required")
    context: list[str] = []
    converted = []
    for message in messages:
        if not isinstance(message, dict):
            raise conversion_error("invalid message")
        text = content_text(message.get("content"))
        if message.get("role") == "system":
            context.append(text)  # PaLM's own place for instructions
            continue
        # One API's authors: "0" for the user, "1" for the model
        converted.append({"author": "0" if message.get("role") == "user" else "1", "content": text})
    prompt: dict[str, Any] = {"messages": converted}
    if context:
        prompt["context"] = "\n".join(context)
    request: dict[str, Any] = {"prompt": prompt}
    for ours, theirs in (("temperature", "temperature"), ("top_p", "topP"), ("top_k", "topK"), ("n", "candidateCount")):
        if body.get(ours) is not None:
            request[theirs] = body[ours]
    return request


def _answer(status: int, body: bytes) -> dict[str, Any]:
    """The parsed answer; an error object or an answer without candidates (a blocked prompt) raises."""
    try:
        doc = orjson.loads(body)
    except orjson.JSONDecodeError as exc:
        raise RelayError(500, f"unmarshal response body failed: {exc}", code="unmarshal_response_body_failed") from exc
    if not isinstance(doc, dict):
        raise RelayError(500, "unexpected upstream response", code="unmarshal_response_body_failed")
    if isinstance(doc.get("error"), dict) and doc["error"].get("message"):
        raise error_from_object(status if status >= 400 else 500, doc["error"])
    candidates = [c for c in listed(doc.get("candidates")) if isinstance(c, dict)]
    if not candidates:
        filters = [f for f in listed(doc.get("filters")) if isinstance(f, dict)]
        reason = str(filters[0].get("reason") or "") if filters else ""
        message = f"PaLM returned no candidates (filtered: {reason})" if reason else "PaLM returned no candidates"
        raise RelayError(400, message, type="invalid_request_error", code="content_filtered")
    doc["candidates"] = candidates
    return doc


def _choices(doc: dict[str, Any]) -> tuple[list[dict[str, Any]], str]:
    choices = []
    for index, candidate in enumerate(doc["candidates"]):
        text = str(candidate.get("content") or "")
        choices.append({"index": index, "message": {"role": "assistant", "content": text}, "finish_reason": "stop"})
    return choices, str(doc["candidates"][0].get("content") or "")


class PalmStream:
    """Collects PaLM's one JSON answer and sends it as one chunk when it has arrived."""

    def __init__(self, meta: RelayMeta) -> None:
        self.usage: Usage | None = None
        self.text_parts: list[str] = []
        self.saw_done = False
        self._meta = meta
        self._lines: list[bytes] = []
        self._size = 0

    def feed(self, line: bytes) -> Iterable[bytes]:
        self._size += len(line) + 1
        if self._size <= MAX_STREAM_BODY:  # beyond it, finish() answers with an error
            self._lines.append(line)
        return ()

    def finish(self) -> Iterable[bytes]:
        try:
            if self._size > MAX_STREAM_BODY:
                raise RelayError(502, "PaLM answer too large", "upstream_error", code="upstream_answer_too_large")
            doc = _answer(200, b"\n".join(self._lines))
        except RelayError as exc:
            return (orjson.dumps({"error": redact_error(exc.body()["error"], self._meta.api_key)}),)
        text = str(doc["candidates"][0].get("content") or "")
        self.text_parts.append(text)
        chunk = {
            "id": f"chatcmpl-{now()}",
            "object": "chat.completion.chunk",
            "created": now(),
            "model": "palm2",
            "choices": [{"index": 0, "delta": {"role": "assistant", "content": text}, "finish_reason": "stop"}],
        }
        return (orjson.dumps(chunk),)


class PalmAdaptor:
    name = "palm"
    json_stream = True  # PaLM answers a "stream" with its JSON: not an error (shared/relay/engine.py)

    def build_request(self, meta: RelayMeta, body: dict[str, Any] | None, raw: bytes) -> UpstreamRequest:
        if meta.mode != modes.CHAT:
            raise unsupported_mode(meta.mode)
        body = json_body(body, raw)
        headers = {"Content-Type": "application/json", "x-goog-api-key": meta.api_key}
        return UpstreamRequest("POST", f"{meta.base_url}{PATH}", headers, orjson.dumps(convert_request(body)))

    def convert_response(self, meta: RelayMeta, status: int, headers: Mapping[str, str], body: bytes) -> ConvertedResponse:
        doc = _answer(status, body)
        choices, text = _choices(doc)
        answer = {
            "id": f"chatcmpl-{now()}",
            "object": "chat.completion",
            "created": now(),
            "model": meta.actual_model,
            "choices": choices,
        }
        # The count One API shows and bills: the prompt estimate plus the reply counted locally.
        completion = tokenizer.count_text(text, meta.actual_model)
        usage = Usage(meta.prompt_tokens, completion, meta.prompt_tokens + completion)
        answer["usage"] = usage.as_dict()
        return ConvertedResponse(status=status, body=orjson.dumps(answer), usage=usage, text=text)

    def stream_converter(self, meta: RelayMeta) -> PalmStream:
        return PalmStream(meta)
