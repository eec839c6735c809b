"""Anthropic stream events -> OpenAI chat.completion.chunk payloads."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import orjson

from shared.redact import redact_error
from shared.relay.adaptors.anthropic.response import finish_reason, usage_of
from shared.relay.adaptors.common import member, now, sse_data
from shared.relay.types import RelayMeta, Usage


class AnthropicStream:
    def __init__(self, meta: RelayMeta) -> None:
        self.usage: Usage | None = None
        self.text_parts: list[str] = []
        self.saw_done = False
        self._id = "chatcmpl-"
        self._model = meta.actual_model
        self._key = meta.api_key  # an error event may echo it (shared.redact)
        self._created = now()
        self._prompt_parts: dict[str, int] = {}
        self._completion = 0
        self._tool_index: dict[int, int] = {}  # Anthropic content block index -> OpenAI tool_calls index

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

    def _set_usage(self, raw: Any) -> None:
        """message_start carries the prompt side, message_delta the output (and, lately, the prompt
        again): each count is kept from the last event that reported it."""
        if not isinstance(raw, dict):
            return
        for key in ("input_tokens", "cache_creation_input_tokens", "cache_read_input_tokens"):
            if isinstance(raw.get(key), int) and raw[key] > 0:
                self._prompt_parts[key] = raw[key]
        if isinstance(raw.get("output_tokens"), int):
            self._completion = raw["output_tokens"]
        parts = self._prompt_parts
        prompt = sum(parts.values())
        if prompt or self._completion:
            self.usage = usage_of(prompt, self._completion)
            self.usage.cache_write_tokens = parts.get("cache_creation_input_tokens", 0)
            self.usage.cache_read_tokens = parts.get("cache_read_input_tokens", 0)

    def feed(self, line: bytes) -> Iterable[bytes]:
        payload = sse_data(line)
        if not payload:
            return ()  # `event:` lines and blanks: the type is repeated inside the data
        try:
            event = orjson.loads(payload)
        except orjson.JSONDecodeError:
            return ()
        if not isinstance(event, dict):
            return ()
        kind = event.get("type")
        if kind == "message_start":
            message = member(event, "message")
            self._id = f"chatcmpl-{message.get('id', '')}"
            self._model = message.get("model") or self._model
            self._set_usage(message.get("usage"))
            return (self._chunk({"role": "assistant", "content": ""}),)
        if kind == "content_block_start":
            return self._block_start(event)
        if kind == "content_block_delta":
            return self._block_delta(event)
        if kind == "message_delta":
            self._set_usage(event.get("usage"))
            delta = member(event, "delta")
            return (self._chunk({}, finish_reason(delta.get("stop_reason")) or "stop"),)
        if kind == "error":
            return (orjson.dumps({"error": redact_error(event.get("error"), self._key)}),)
        return ()  # ping, content_block_stop, message_stop

    def _block_start(self, event: dict[str, Any]) -> Iterable[bytes]:
        block = member(event, "content_block")
        if block.get("type") == "tool_use":
            index = len(self._tool_index)
            self._tool_index[event.get("index", index)] = index
            call = {
                "index": index,
                "id": block.get("id") or "",
                "type": "function",
                "function": {"name": block.get("name") or "", "arguments": ""},
            }
            return (self._chunk({"tool_calls": [call]}),)
        text = block.get("text")
        if block.get("type") == "text" and text:
            self.text_parts.append(text)
            return (self._chunk({"content": text}),)
        return ()

    def _block_delta(self, event: dict[str, Any]) -> Iterable[bytes]:
        delta = member(event, "delta")
        if delta.get("type") == "text_delta":
            text = str(delta.get("text") or "")
            self.text_parts.append(text)
            return (self._chunk({"content": text}),)
        if delta.get("type") == "input_json_delta":
            index = self._tool_index.get(event.get("index", -1), max(len(self._tool_index) - 1, 0))
            call = {"index": index, "function": {"arguments": str(delta.get("partial_json") or "")}}
            return (self._chunk({"tool_calls": [call]}),)
        return ()  # thinking and signature deltas have no chat.completion equivalent

    def finish(self) -> Iterable[bytes]:
        return ()
