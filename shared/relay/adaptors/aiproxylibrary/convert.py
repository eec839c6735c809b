"""OpenAI chat <-> AI Proxy's knowledge-base API (/api/library/ask, docs/one-api-compat.md §5.8): the last message
is the `query` to the library named by config `library_id`; the answer's reference documents are
appended to the reply as a Markdown list, as One API does. The library reports no usage: the
gateway counts the reply."""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from typing import Any

import orjson

from shared.redact import redact_error
from shared.relay.adaptors.common import content_text, conversion_error, now, sse_json
from shared.relay.adaptors.errors import upstream_error as generic_error
from shared.relay.types import ConvertedResponse, RelayError, RelayMeta, Usage

DOCUMENTS_HEADING = "\n\n参考文档：\n"  # One API's wording, kept so replies read the same


def convert_request(meta: RelayMeta, body: dict[str, Any]) -> dict[str, Any]:
    library = meta.config.get("library_id", "")
    if not library:
        raise RelayError(500, "get request url failed: the channel has no AI Proxy library ID", code="do_request_failed")
    messages = body.get("messages")
    if not isinstance(messages, list) or not messages or not isinstance(messages[-1], dict):
        raise conversion_error("field messages is required")
    return {
        "model": meta.actual_model,
        "query": content_text(messages[-1].get("content")),
        "libraryId": library,
        "stream": bool(body.get("stream")),
    }


def documents_text(documents: Any) -> str:
    items = [d for d in documents if isinstance(d, dict)] if isinstance(documents, list) else []
    if not items:
        return ""
    lines = [f"{i}. [{d.get('title') or ''}]({d.get('url') or ''})\n" for i, d in enumerate(items, 1)]
    return DOCUMENTS_HEADING + "".join(lines)


def library_error(status: int, doc: dict[str, Any]) -> RelayError:
    code = doc.get("errCode")
    error_type = "authentication_error" if status in (401, 403) else "aiproxy_library_error"
    return RelayError(status if status >= 400 else 500, str(doc.get("message") or "knowledge base error"), error_type, code=code)


def upstream_error(status: int, body: bytes) -> RelayError:
    try:
        doc = orjson.loads(body) if body else None
    except orjson.JSONDecodeError:
        doc = None
    if isinstance(doc, dict) and doc.get("success") is False:
        return library_error(status, doc)
    return generic_error(status, body)


def convert_response(meta: RelayMeta, status: int, body: bytes) -> ConvertedResponse:
    try:
        doc = orjson.loads(body)
    except orjson.JSONDecodeError as exc:
        raise RelayError(500, f"unmarshal response body failed: {exc}", code="unmarshal_response_body_failed") from exc
    if not isinstance(doc, dict):
        raise RelayError(500, "unexpected upstream response", code="unmarshal_response_body_failed")
    if doc.get("success") is False or doc.get("errCode") not in (None, 0):
        raise library_error(status, doc)
    text = str(doc.get("answer") or "") + documents_text(doc.get("documents"))
    answer = {
        "id": f"chatcmpl-{uuid.uuid4().hex}",
        "object": "chat.completion",
        "created": now(),
        "model": meta.actual_model,
        "choices": [{"index": 0, "message": {"role": "assistant", "content": text}, "finish_reason": "stop"}],
    }
    return ConvertedResponse(status=status, body=orjson.dumps(answer), usage=None, text=text)


class LibraryStream:
    """`data: {"content", "finish", "model", "documents"}` events -> chunks; the documents close the answer."""

    def __init__(self, meta: RelayMeta) -> None:
        self.usage: Usage | None = None
        self.text_parts: list[str] = []
        self.saw_done = False
        self._id = f"chatcmpl-{uuid.uuid4().hex}"
        self._created = now()
        self._model = meta.actual_model
        self._key = meta.api_key
        self._documents: Any = None
        self._failed = False

    def _chunk(self, content: str, finish: str | None) -> bytes:
        choice = {"index": 0, "delta": {"role": "assistant", "content": content}, "finish_reason": finish}
        return orjson.dumps(
            {"id": self._id, "object": "chat.completion.chunk", "created": self._created, "model": self._model, "choices": [choice]}
        )

    def feed(self, line: bytes) -> Iterable[bytes]:
        event = sse_json(line)
        if event is None:
            return ()
        if event.get("success") is False:
            self._failed = True
            return (orjson.dumps({"error": redact_error(library_error(500, event).body()["error"], self._key)}),)
        if event.get("documents"):
            self._documents = event["documents"]
        content = event.get("content")
        if not isinstance(content, str) or not content:
            return ()
        self.text_parts.append(content)
        return (self._chunk(content, None),)

    def finish(self) -> Iterable[bytes]:
        if self._failed:
            return ()
        documents = documents_text(self._documents)
        if documents:
            self.text_parts.append(documents)
        return (self._chunk(documents, "stop"),)
