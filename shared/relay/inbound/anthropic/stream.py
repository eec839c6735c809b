"""OpenAI chat.completion.chunk payloads -> Anthropic's event sequence, as whole SSE frames.

message_start, ping, then per content block content_block_start / _delta (text_delta,
thinking_delta, input_json_delta) / content_block_stop, then message_delta (stop_reason, usage)
and message_stop. The chat chunks come from the channel's own stream converter, so every provider
the gateway converts to chat completions streams to an Anthropic client too.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import orjson

from shared.relay.adaptors.common import DONE
from shared.relay.inbound.anthropic.answer import as_dict, message_id, stop_reason, usage_body
from shared.relay.inbound.anthropic.errors import stream_error, upstream_broke_off
from shared.relay.types import StreamConverter, Usage


def frame(event: dict[str, Any]) -> bytes:
    return b"event: " + event["type"].encode() + b"\ndata: " + orjson.dumps(event) + b"\n\n"


class MessagesStream:
    """A StreamConverter whose payloads are whole frames (`framed`): no `[DONE]` is owed."""

    framed = True
    saw_done = True

    def __init__(self, inner: StreamConverter, model: str, prompt_estimate: int) -> None:
        self.inner = inner
        self.model = model
        self.prompt_estimate = prompt_estimate
        self.started = False
        self.closed = False
        self.block = -1  # index of the open content block, -1 when none is open
        self.block_kind = ""
        self.tool_blocks: dict[int, int] = {}  # chat tool_calls index -> block index
        self.finish_reason: Any = None
        self.next_index = 0

    @property
    def usage(self) -> Usage | None:
        return self.inner.usage

    @property
    def text_parts(self) -> list[str]:
        return self.inner.text_parts

    def feed(self, line: bytes) -> Iterable[bytes]:
        out: list[bytes] = []
        for payload in self.inner.feed(line):
            out.extend(self.chat_payload(payload))
        return out

    def chat_payload(self, payload: bytes) -> list[bytes]:
        """One chat chunk (or `[DONE]`, or an error object) -> the frames it becomes."""
        if self.closed:
            return []
        if payload.startswith(DONE):
            return self._close()
        try:
            chunk = orjson.loads(payload)
        except orjson.JSONDecodeError:
            return []
        if not isinstance(chunk, dict):
            return []
        out = self._start(chunk.get("id"))
        if "error" in chunk:
            self.closed = True
            return out + [frame(stream_error(chunk))]
        choices = chunk.get("choices")
        for choice in choices if isinstance(choices, list) else ():
            if not isinstance(choice, dict):
                continue
            delta = as_dict(choice.get("delta"))
            out.extend(self._delta(delta))
            if choice.get("finish_reason"):
                self.finish_reason = choice["finish_reason"]
        return out

    def _start(self, upstream_id: Any = "") -> list[bytes]:
        if self.started:
            return []
        self.started = True
        message: dict[str, Any] = {
            "id": message_id(upstream_id),
            "type": "message",
            "role": "assistant",
            "model": self.model,
            "content": [],
            "stop_reason": None,
            "stop_sequence": None,
            "usage": {"input_tokens": self.prompt_estimate, "output_tokens": 0},
        }
        return [frame({"type": "message_start", "message": message}), frame({"type": "ping"})]

    def _open(self, kind: str, block: dict[str, Any]) -> list[bytes]:
        out = self._stop_block()
        self.block, self.block_kind = self.next_index, kind
        self.next_index += 1
        out.append(frame({"type": "content_block_start", "index": self.block, "content_block": block}))
        return out

    def _stop_block(self) -> list[bytes]:
        if self.block < 0:
            return []
        stop = frame({"type": "content_block_stop", "index": self.block})
        self.block, self.block_kind = -1, ""
        return [stop]

    def _delta(self, delta: dict[str, Any]) -> list[bytes]:
        out: list[bytes] = []
        reasoning = delta.get("reasoning_content") or delta.get("reasoning")
        if isinstance(reasoning, str) and reasoning:
            if self.block_kind != "thinking":
                out += self._open("thinking", {"type": "thinking", "thinking": "", "signature": ""})
            out.append(
                frame({"type": "content_block_delta", "index": self.block, "delta": {"type": "thinking_delta", "thinking": reasoning}})
            )
        text = delta.get("content")
        if isinstance(text, str) and text:
            if self.block_kind != "text":
                out += self._open("text", {"type": "text", "text": ""})
            out.append(frame({"type": "content_block_delta", "index": self.block, "delta": {"type": "text_delta", "text": text}}))
        calls = delta.get("tool_calls")
        for call in calls if isinstance(calls, list) else ():
            if isinstance(call, dict):
                out += self._tool_delta(call)
        return out

    def _tool_delta(self, call: dict[str, Any]) -> list[bytes]:
        out: list[bytes] = []
        index: int = call["index"] if isinstance(call.get("index"), int) else len(self.tool_blocks)
        function = as_dict(call.get("function"))
        if index not in self.tool_blocks:
            block = {
                "type": "tool_use",
                "id": str(call.get("id") or f"toolu_{index}"),
                "name": str(function.get("name") or ""),
                "input": {},
            }
            out += self._open("tool_use", block)
            self.tool_blocks[index] = self.block
        arguments = function.get("arguments")
        if isinstance(arguments, str) and arguments:
            if self.tool_blocks[index] != self.block:
                return out  # arguments of a call whose block was closed: Anthropic blocks do not interleave
            out.append(
                frame(
                    {"type": "content_block_delta", "index": self.block, "delta": {"type": "input_json_delta", "partial_json": arguments}}
                )
            )
        return out

    def _close(self, reason: str | None = None) -> list[bytes]:
        if self.closed:
            return []
        out = self._start() + self._stop_block()
        self.closed = True
        usage = usage_body(self.inner.usage, self.prompt_estimate)
        delta = {"stop_reason": reason or stop_reason(self.finish_reason), "stop_sequence": None}
        out.append(frame({"type": "message_delta", "delta": delta, "usage": usage}))
        out.append(frame({"type": "message_stop"}))
        return out

    def interrupt(self, chat_payload: bytes) -> list[bytes]:
        """The gateway ends the answer early (QUOTA_STRICT): Anthropic's max_tokens ending."""
        return self.chat_payload(chat_payload) + self._close("max_tokens")

    def abort(self, message: str) -> list[bytes]:
        """The upstream broke off mid-answer: Anthropic's mid-stream `error` event ends it."""
        if self.closed:
            return []
        self.closed = True
        return self._start() + [frame(upstream_broke_off(message))]

    def finish(self) -> Iterable[bytes]:
        return [f for payload in self.inner.finish() for f in self.chat_payload(payload)] + self._close()
