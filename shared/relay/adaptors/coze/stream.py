"""Coze v2 stream events (`data:{"event": "message" | "done" | "error", ...}`) -> chat.completion.chunk."""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from typing import Any

import orjson

from shared.redact import redact_error
from shared.relay.adaptors.common import member, now, sse_json
from shared.relay.adaptors.coze.convert import coze_error
from shared.relay.types import RelayMeta, Usage


class CozeStream:
    def __init__(self, meta: RelayMeta) -> None:
        self.usage: Usage | None = None  # Coze v2 reports none: the engine counts the text
        self.text_parts: list[str] = []
        self.saw_done = False
        self._id = f"chatcmpl-{uuid.uuid4().hex}"
        self._created = now()
        self._model = meta.actual_model
        self._key = meta.api_key
        self._finished = False

    def _chunk(self, delta: dict[str, Any], finish: str | None) -> bytes:
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
        event = sse_json(line)
        if event is None:
            return ()
        if event.get("conversation_id"):
            self._id = f"chatcmpl-{event['conversation_id']}"
        kind = event.get("event")
        if kind == "message":
            message = member(event, "message")
            if message.get("type") != "answer" or not isinstance(message.get("content"), str):
                return ()  # follow-ups, verbose and tool messages are Coze's extras
            self.text_parts.append(message["content"])
            return (self._chunk({"role": "assistant", "content": message["content"]}, None),)
        if kind == "done":
            self._finished = True
            return (self._chunk({}, "stop"),)
        if kind == "error":
            self._finished = True  # the error ends the answer: no stop chunk after it
            info = member(event, "error_information")
            error = coze_error(info.get("code"), str(info.get("msg") or "coze stream error"))
            return (orjson.dumps({"error": redact_error(error.body()["error"], self._key)}),)
        return ()

    def finish(self) -> Iterable[bytes]:
        return () if self._finished else (self._chunk({}, "stop"),)
