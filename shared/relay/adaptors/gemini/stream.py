"""Gemini SSE chunks (streamGenerateContent?alt=sse) -> OpenAI chat.completion.chunk payloads."""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from typing import Any

import orjson

from shared.redact import redact_error
from shared.relay.adaptors.common import listed, now, sse_json
from shared.relay.adaptors.gemini.response import (
    candidate_parts,
    finish_reason,
    parts_text,
    tool_calls,
)
from shared.relay.types import Usage


class GeminiStream:
    """Usage stays None: One API bills Gemini streams on the estimate plus the counted text."""

    def __init__(self, key: str = "") -> None:
        self.usage: Usage | None = None
        self._key = key  # an error chunk may echo it (shared.redact)
        self.text_parts: list[str] = []
        self.saw_done = False
        self._id = f"chatcmpl-{uuid.uuid4().hex}"
        self._created = now()
        self._tools = 0

    def feed(self, line: bytes) -> Iterable[bytes]:
        doc = sse_json(line)
        if doc is None:
            return ()
        if isinstance(doc.get("error"), dict):
            return (orjson.dumps({"error": redact_error(doc["error"], self._key)}),)
        choices = []
        for index, candidate in enumerate(c for c in listed(doc.get("candidates")) if isinstance(c, dict)):
            parts = candidate_parts(candidate)
            text = parts_text(parts)
            self.text_parts.append(text)
            delta: dict[str, Any] = {"content": text}
            calls = tool_calls(parts)
            if calls:
                for call in calls:
                    call["index"] = self._tools
                    self._tools += 1
                delta["tool_calls"] = calls
            choices.append({"index": index, "delta": delta, "finish_reason": finish_reason(candidate, bool(calls))})
        if not choices:
            return ()
        chunk = {
            "id": self._id,
            "object": "chat.completion.chunk",
            "created": self._created,
            "model": "gemini",
            "choices": choices,
        }
        return (orjson.dumps(chunk),)

    def finish(self) -> Iterable[bytes]:
        return ()
