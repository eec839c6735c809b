"""OpenAI chat.completion.chunk SSE -> Gemini's streamGenerateContent?alt=sse events.

Text deltas go out as they arrive. Tool-call arguments arrive in pieces, and Gemini sends a
functionCall whole, so calls are collected and sent with the finishing chunk; that chunk waits for
the end of the stream, so it also carries the usage OpenAI sends after the finish reason.
"""

from __future__ import annotations

from typing import Any

import orjson

from shared.relay.adaptors.common import DONE, sse_data
from shared.relay.inbound.gemini.answer import as_dict, finish_reason, function_call, google_error, usage_metadata

MAX_LINE = 8 * 1024 * 1024  # a partial SSE line held between writes; the relay never writes one this long
MAX_CALLS = 128  # tool calls collected from one answer


class GeminiStreamWriter:
    def __init__(self, model: str) -> None:
        self.model = model
        self._buffer = b""
        self._calls: dict[int, dict[str, Any]] = {}
        self._finish: str | None = None
        self._usage: dict[str, int] | None = None
        self._done = False
        self._native = False

    def feed(self, data: bytes) -> bytes:
        """Bytes the relay wrote -> the Gemini events to write now."""
        self._buffer += data
        lines = self._buffer.split(b"\n")
        self._buffer = lines.pop()
        if len(self._buffer) > MAX_LINE:
            self._buffer = b""
        out = [self._line(line) for line in lines]
        return b"".join(out)

    def finish(self) -> bytes:
        """The finishing chunk, once, when the relay's stream ended (with or without [DONE])."""
        tail = self._line(self._buffer) if self._buffer else b""
        self._buffer = b""
        if self._done or (self._native and self._finish is None):
            return tail
        self._done = True
        parts = [function_call(c) for c in self._calls.values()]
        candidate: dict[str, Any] = {
            "content": {"role": "model", "parts": [p for p in parts if p] or [{"text": ""}]},
            "finishReason": self._finish or "STOP",
            "index": 0,
        }
        chunk: dict[str, Any] = {"candidates": [candidate], "modelVersion": self.model}
        if self._usage is not None:
            chunk["usageMetadata"] = self._usage
        return tail + _event(chunk)

    def _line(self, line: bytes) -> bytes:
        payload = sse_data(line)
        if not payload:
            return b""
        if payload == DONE:
            return self.finish()
        try:
            chunk = orjson.loads(payload)
        except orjson.JSONDecodeError:
            return b""
        if not isinstance(chunk, dict):
            return b""
        if "candidates" in chunk or "usageMetadata" in chunk:
            self._native = True  # a Gemini channel's own event (shared.relay.inbound.gemini.passthrough)
            return b"data: " + payload + b"\r\n\r\n"
        if "error" in chunk:
            error = chunk.get("error")
            code = error.get("code") if isinstance(error, dict) else None
            status = code if isinstance(code, int) and 400 <= code < 600 else 500
            self._done = True  # an error ends a Gemini stream: no finishing chunk after it
            return _event(google_error(status, chunk))
        usage = usage_metadata(chunk.get("usage"))
        if usage is not None:
            self._usage = usage
        texts = []
        for choice in chunk.get("choices") or []:
            if not isinstance(choice, dict) or choice.get("index", 0) != 0:
                continue  # candidateCount > 1 streams only the first candidate
            delta = as_dict(choice.get("delta"))
            if isinstance(delta.get("content"), str) and delta["content"]:
                texts.append(delta["content"])
            for call in delta.get("tool_calls") or []:
                if isinstance(call, dict):
                    self._collect(call)
            reason = finish_reason(choice.get("finish_reason"))
            if reason:
                self._finish = reason
        if not texts:
            return b""
        candidate = {"content": {"role": "model", "parts": [{"text": "".join(texts)}]}, "index": 0}
        return _event({"candidates": [candidate], "modelVersion": self.model})

    def _collect(self, call: dict[str, Any]) -> None:
        given = call.get("index")
        index = given if isinstance(given, int) else len(self._calls)
        if index not in self._calls:
            if len(self._calls) >= MAX_CALLS:
                return
            self._calls[index] = {"id": "", "function": {"name": "", "arguments": ""}}
        entry = self._calls[index]
        if isinstance(call.get("id"), str) and call["id"]:
            entry["id"] = call["id"]
        function = as_dict(call.get("function"))
        if isinstance(function.get("name"), str) and function["name"]:
            entry["function"]["name"] = function["name"]
        if isinstance(function.get("arguments"), str):
            entry["function"]["arguments"] += function["arguments"]


def _event(chunk: dict[str, Any]) -> bytes:
    return b"data: " + orjson.dumps(chunk) + b"\r\n\r\n"
