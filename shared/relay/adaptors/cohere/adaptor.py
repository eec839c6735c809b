"""The Cohere adaptor (channel type 35): OpenAI chat <-> Cohere's chat API v1 (`POST /v1/chat`).

The last user message becomes `message` and every other one `chat_history` (USER, CHATBOT,
SYSTEM); a `-internet` model suffix adds the web-search connector (docs/one-api-compat.md §5.8, Cohere).
Streams are newline-delimited JSON events; usage comes from `meta.billed_units`. Embeddings go to
`POST /v1/embed` (One API has none for Cohere; the channel lists the embed models it serves).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

import orjson

from shared.redact import redact_error
from shared.relay import modes
from shared.relay.adaptors.common import content_text, conversion_error, json_body, member, now, unsupported_mode
from shared.relay.types import ConvertedResponse, RelayError, RelayMeta, UpstreamRequest, Usage

DEFAULT_MODEL = "command-r"
DEFAULT_EMBED_MODEL = "embed-english-v3.0"
MAX_EMBED_TEXTS = 96  # Cohere's own limit per /v1/embed call
INTERNET = "-internet"
ROLES = {"assistant": "CHATBOT", "system": "SYSTEM"}
FINISH = {"COMPLETE": "stop", "MAX_TOKENS": "length", "STOP_SEQUENCE": "stop", "TOOL_CALL": "tool_calls"}
# OpenAI field -> Cohere field, copied when present
PARAMETERS = (
    ("max_tokens", "max_tokens"),
    ("temperature", "temperature"),
    ("top_p", "p"),
    ("top_k", "k"),
    ("frequency_penalty", "frequency_penalty"),
    ("presence_penalty", "presence_penalty"),
    ("seed", "seed"),
)


def convert_request(body: dict[str, Any]) -> dict[str, Any]:
    messages = body.get("messages")
    if not isinstance(messages, list):
        raise conversion_error("field messages is required")
    model = str(body.get("model") or DEFAULT_MODEL)
    request: dict[str, Any] = {"model": model}
    if model.endswith(INTERNET):
        request["model"] = model.removesuffix(INTERNET)
        request["connectors"] = [{"id": "web-search"}]
    last_user = max((i for i, m in enumerate(messages) if isinstance(m, dict) and m.get("role") == "user"), default=-1)
    history = []
    for index, message in enumerate(messages):
        if not isinstance(message, dict):
            raise conversion_error("invalid message")
        text = content_text(message.get("content"))
        if index == last_user:
            request["message"] = text
        else:
            history.append({"role": ROLES.get(str(message.get("role")), "USER"), "message": text})
    if last_user < 0:
        raise conversion_error("Cohere needs a user message")
    if history:
        request["chat_history"] = history
    for ours, theirs in PARAMETERS:
        if body.get(ours) is not None:
            request[theirs] = body[ours]
    stop = body.get("stop")
    if isinstance(stop, str) and stop:
        request["stop_sequences"] = [stop]
    elif isinstance(stop, list) and stop:
        request["stop_sequences"] = [s for s in stop if isinstance(s, str)]
    if body.get("stream"):
        request["stream"] = True
    return request


def _count(value: Any) -> int:
    return value if isinstance(value, int) and not isinstance(value, bool) and value > 0 else 0


def usage_of(response: dict[str, Any]) -> Usage | None:
    billed = member(member(response, "meta"), "billed_units")
    prompt, completion = _count(billed.get("input_tokens")), _count(billed.get("output_tokens"))
    if not prompt and not completion:
        return None
    return Usage(prompt, completion, prompt + completion)


def finish_reason(reason: Any) -> str | None:
    return FINISH.get(reason, str(reason).lower()) if isinstance(reason, str) and reason else None


def convert_response(meta: RelayMeta, status: int, body: bytes) -> ConvertedResponse:
    try:
        doc = orjson.loads(body)
    except orjson.JSONDecodeError as exc:
        raise RelayError(500, f"unmarshal response body failed: {exc}", code="unmarshal_response_body_failed") from exc
    if not isinstance(doc, dict):
        raise RelayError(500, "unexpected upstream response", code="unmarshal_response_body_failed")
    if not isinstance(doc.get("text"), str) and isinstance(doc.get("message"), str):
        raise RelayError(status, doc["message"], type="upstream_error", code="cohere_error")
    text = str(doc.get("text") or "")
    usage = usage_of(doc)
    answer = {
        "id": f"chatcmpl-{doc.get('response_id', '')}",
        "object": "chat.completion",
        "created": now(),
        "model": meta.actual_model,
        "choices": [
            {"index": 0, "message": {"role": "assistant", "content": text}, "finish_reason": finish_reason(doc.get("finish_reason"))}
        ],
        "usage": (usage or Usage()).as_dict(),
    }
    return ConvertedResponse(status=status, body=orjson.dumps(answer), usage=usage, text=text)


class CohereStream:
    """Cohere's NDJSON stream events -> chat.completion.chunk payloads."""

    def __init__(self, meta: RelayMeta) -> None:
        self.usage: Usage | None = None
        self.text_parts: list[str] = []
        self.saw_done = False
        self._id = "chatcmpl-"
        self._model = meta.actual_model
        self._key = meta.api_key
        self._created = now()

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
        if not line.strip():
            return ()
        try:
            event = orjson.loads(line)
        except orjson.JSONDecodeError:
            return ()
        if not isinstance(event, dict):
            return ()
        kind = event.get("event_type")
        if kind == "stream-start":
            self._id = f"chatcmpl-{event.get('generation_id', '')}"
            return (self._chunk({"role": "assistant", "content": ""}),)
        if kind == "text-generation":
            text = str(event.get("text") or "")
            self.text_parts.append(text)
            return (self._chunk({"content": text}),)
        if kind == "stream-end":
            response = member(event, "response")
            self.usage = usage_of(response)
            reason = event.get("finish_reason")
            if reason == "ERROR":
                message = str(event.get("error") or response.get("text") or "cohere stream error")
                return (orjson.dumps({"error": redact_error({"message": message, "type": "upstream_error"}, self._key)}),)
            return (self._chunk({}, finish_reason(reason) or "stop"),)
        return ()  # search queries, citations, tool events: no chat.completion equivalent

    def finish(self) -> Iterable[bytes]:
        return ()


def convert_embeddings(body: dict[str, Any]) -> dict[str, Any]:
    """OpenAI `input` (a string or strings) -> Cohere's `texts`; v3 models require an input_type."""
    value = body.get("input")
    texts = [value] if isinstance(value, str) else value
    if not isinstance(texts, list) or not texts or not all(isinstance(t, str) for t in texts):
        raise conversion_error("input must be a string or a list of strings for Cohere embeddings")
    if len(texts) > MAX_EMBED_TEXTS:
        raise conversion_error(f"Cohere embeds at most {MAX_EMBED_TEXTS} texts per request")
    return {"model": body.get("model") or DEFAULT_EMBED_MODEL, "texts": texts, "input_type": "search_document"}


def convert_embed_response(meta: RelayMeta, status: int, body: bytes) -> ConvertedResponse:
    try:
        doc = orjson.loads(body)
    except orjson.JSONDecodeError as exc:
        raise RelayError(500, f"unmarshal response body failed: {exc}", code="unmarshal_response_body_failed") from exc
    vectors = doc.get("embeddings") if isinstance(doc, dict) else None
    if isinstance(vectors, dict):  # asked with embedding_types: {"float": [...]}
        vectors = vectors.get("float")
    if not isinstance(vectors, list):
        raise RelayError(500, "Cohere answered no embeddings", code="unmarshal_response_body_failed")
    prompt = _count(member(member(doc, "meta"), "billed_units").get("input_tokens"))
    usage = Usage(prompt, 0, prompt)
    data = [{"object": "embedding", "index": i, "embedding": v} for i, v in enumerate(vectors) if isinstance(v, list)]
    answer = {"object": "list", "data": data, "model": meta.actual_model, "usage": {"prompt_tokens": prompt, "total_tokens": prompt}}
    return ConvertedResponse(status=status, body=orjson.dumps(answer), usage=usage if prompt else None)


class CohereAdaptor:
    name = "cohere"

    def build_request(self, meta: RelayMeta, body: dict[str, Any] | None, raw: bytes) -> UpstreamRequest:
        if meta.mode not in (modes.CHAT, modes.EMBEDDINGS):
            raise unsupported_mode(meta.mode)
        body = json_body(body, raw)
        headers = {"Content-Type": "application/json", "Authorization": f"Bearer {meta.api_key}", "Accept": "application/json"}
        if meta.mode == modes.EMBEDDINGS:
            return UpstreamRequest("POST", f"{meta.base_url}/v1/embed", headers, orjson.dumps(convert_embeddings(body)))
        return UpstreamRequest("POST", f"{meta.base_url}/v1/chat", headers, orjson.dumps(convert_request(body)))

    def convert_response(self, meta: RelayMeta, status: int, headers: Mapping[str, str], body: bytes) -> ConvertedResponse:
        if meta.mode == modes.EMBEDDINGS:
            return convert_embed_response(meta, status, body)
        return convert_response(meta, status, body)

    def stream_converter(self, meta: RelayMeta) -> CohereStream:
        return CohereStream(meta)
