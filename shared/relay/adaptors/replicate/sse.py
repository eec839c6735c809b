"""Replicate's prediction stream (text/event-stream): `output` events carry text (a token may span
several `data:` lines, joined by newlines), then `done`, or `error` with a JSON detail."""

from __future__ import annotations

from collections.abc import Iterable

import orjson

from shared.redact import redact_error
from shared.relay.adaptors.common import now
from shared.relay.types import RelayMeta, Usage


class ReplicateEvents:
    """Assembles SSE lines into (event, data) pairs."""

    def __init__(self) -> None:
        self._event = "message"
        self._data: list[str] = []

    def feed(self, line: bytes) -> tuple[str, str] | None:
        text = line.decode("utf-8", "replace")
        if not text:
            if not self._data and self._event == "message":
                return None
            event, data = self._event, "\n".join(self._data)
            self._event, self._data = "message", []
            return event, data
        if text.startswith("event:"):
            self._event = text[6:].strip()
        elif text.startswith("data:"):
            value = text[5:]
            self._data.append(value[1:] if value.startswith(" ") else value)  # one space only: tokens keep theirs
        return None


def error_text(data: str) -> str:
    try:
        doc = orjson.loads(data)
    except orjson.JSONDecodeError:
        return data or "prediction failed"
    if isinstance(doc, dict):
        return str(doc.get("detail") or doc.get("error") or doc.get("message") or data)
    return data


class ReplicateStream:
    """Replicate stream events -> chat.completion.chunk payloads (usage: counted by the engine)."""

    def __init__(self, meta: RelayMeta) -> None:
        self.usage: Usage | None = None
        self.text_parts: list[str] = []
        self.saw_done = False
        self._events = ReplicateEvents()
        self._model = meta.actual_model
        self._key = meta.api_key
        self._created = now()
        self._id = f"chatcmpl-{self._created}"
        self._ended = False

    def _chunk(self, delta: dict[str, str], finish: str | None = None) -> bytes:
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
        event = self._events.feed(line)
        if event is None or self._ended:
            return ()
        kind, data = event
        if kind == "output":
            self.text_parts.append(data)
            return (self._chunk({"content": data}),)
        if kind == "done":
            self._ended = True
            return (self._chunk({}, "stop"),)
        if kind == "error":
            self._ended = True
            error = {"message": error_text(data), "type": "upstream_error", "code": "prediction_failed"}
            return (orjson.dumps({"error": redact_error(error, self._key)}),)
        return ()

    def finish(self) -> Iterable[bytes]:
        return self.feed(b"")  # an event without its closing blank line
