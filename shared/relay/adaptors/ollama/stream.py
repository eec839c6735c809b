"""Ollama's NDJSON stream (one JSON object per line) -> OpenAI chat.completion.chunk payloads."""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from typing import Any

import orjson

from shared.redact import redact_error
from shared.relay.adaptors.common import member, now
from shared.relay.adaptors.ollama.response import finish_reason, tool_calls, usage_of
from shared.relay.types import RelayMeta, Usage


class OllamaStream:
    def __init__(self, meta: RelayMeta) -> None:
        self.usage: Usage | None = None
        self.text_parts: list[str] = []
        self.saw_done = False
        self._id = f"chatcmpl-{uuid.uuid4().hex}"
        self._created = now()
        self._model = meta.actual_model
        self._key = meta.api_key  # an error line may echo it (shared.redact)
        self._tools = 0  # tool calls sent so far (their OpenAI `index`)
        self._called = False

    def feed(self, line: bytes) -> Iterable[bytes]:
        line = line.strip()
        if not line:
            return ()
        try:
            doc = orjson.loads(line)
        except orjson.JSONDecodeError:
            return ()
        if not isinstance(doc, dict):
            return ()
        if isinstance(doc.get("error"), str):
            error = {"message": doc["error"], "type": "ollama_error", "param": "", "code": "ollama_error"}
            return (orjson.dumps({"error": redact_error(error, self._key)}),)
        message = member(doc, "message")
        content = message.get("content")
        text = content if isinstance(content, str) else ""
        if text:
            self.text_parts.append(text)
        if doc.get("done"):
            usage = usage_of(doc)
            if usage.total_tokens:
                self.usage = usage
        delta: dict[str, Any] = {"role": "assistant", "content": text}
        calls = tool_calls(message)
        if calls:  # Ollama sends each call whole, in one line
            for call in calls:
                call["index"] = self._tools
                self._tools += 1
            delta["tool_calls"] = calls
            self._called = True
        chunk = {
            "id": self._id,
            "object": "chat.completion.chunk",
            "created": self._created,
            "model": doc.get("model") or self._model,
            "choices": [{"index": 0, "delta": delta, "finish_reason": finish_reason(doc, self._called and bool(doc.get("done")))}],
        }
        return (orjson.dumps(chunk),)

    def finish(self) -> Iterable[bytes]:
        return ()
