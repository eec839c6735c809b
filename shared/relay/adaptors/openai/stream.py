"""OpenAI-family streams (docs/one-api-compat.md §5.9): lines forwarded as they are, text and usage accumulated."""

from __future__ import annotations

from collections.abc import Iterable

import orjson

from shared.relay import modes
from shared.relay.adaptors.common import DONE
from shared.relay.adaptors.openai.response import usage_of
from shared.relay.types import Usage

_PREFIX = b"data: "


class OpenAIStream:
    def __init__(self, mode: int) -> None:
        self.mode = mode
        self.usage: Usage | None = None
        self.text_parts: list[str] = []
        self.saw_done = False

    def feed(self, line: bytes) -> Iterable[bytes]:
        if line.endswith(b"\r"):
            line = line[:-1]
        if len(line) < len(_PREFIX):
            return ()
        if line.startswith(DONE):  # a bare `[DONE]` line: some proxies drop the prefix
            payload = line
        elif line.startswith(_PREFIX):
            payload = line[len(_PREFIX) :]
        else:
            return ()
        if payload.startswith(DONE):
            self.saw_done = True
            return (payload,)
        if self.mode == modes.CHAT:
            return self._chat(payload)
        if self.mode == modes.COMPLETIONS:
            return self._completion(payload)
        return ()

    def _chat(self, payload: bytes) -> Iterable[bytes]:
        try:
            chunk = orjson.loads(payload)
        except orjson.JSONDecodeError:
            return (payload,)
        if not isinstance(chunk, dict):
            return (payload,)
        choices = chunk.get("choices")
        usage = chunk.get("usage")
        if not choices and not usage:
            return ()  # Azure keep-alives and other empty chunks
        for choice in choices or ():
            delta = choice.get("delta") if isinstance(choice, dict) else None
            if isinstance(delta, dict) and isinstance(delta.get("content"), str):
                self.text_parts.append(delta["content"])
        captured = usage_of(usage)
        if captured is not None:
            self.usage = captured
        return (payload,)

    def _completion(self, payload: bytes) -> Iterable[bytes]:
        try:
            chunk = orjson.loads(payload)
        except orjson.JSONDecodeError:
            return (payload,)
        if isinstance(chunk, dict):
            for choice in chunk.get("choices") or ():
                if isinstance(choice, dict) and isinstance(choice.get("text"), str):
                    self.text_parts.append(choice["text"])
            captured = usage_of(chunk.get("usage"))
            if captured is not None:
                self.usage = captured
        return (payload,)

    def finish(self) -> Iterable[bytes]:
        return ()
