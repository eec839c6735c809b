"""Anthropic stream checks shared by the /v1/messages tests: parse SSE frames, check the grammar."""

from __future__ import annotations

import re
from typing import Any

import orjson

# message_start, optional pings, blocks (start, deltas, stop), message_delta, message_stop.
_GRAMMAR = re.compile(r"^S(P)*(B(D|P)*E)*(P)*M(P)*T$")
_LETTERS = {
    "message_start": "S",
    "ping": "P",
    "content_block_start": "B",
    "content_block_delta": "D",
    "content_block_stop": "E",
    "message_delta": "M",
    "message_stop": "T",
}


def frames(text: str) -> list[tuple[str, dict[str, Any]]]:
    """(event name, data) of every frame; each frame's `event:` must name its data's `type`."""
    out = []
    for block in text.split("\n\n"):
        lines = [line for line in block.split("\n") if line]
        if not lines:
            continue
        event = next(line[len("event: ") :] for line in lines if line.startswith("event: "))
        data = orjson.loads(next(line[len("data: ") :] for line in lines if line.startswith("data: ")))
        assert data["type"] == event, (event, data)
        out.append((event, data))
    return out


def check_sequence(events: list[tuple[str, dict[str, Any]]]) -> list[dict[str, Any]]:
    """Assert Anthropic's event grammar with consistent block indexes; returns the blocks built."""
    letters = "".join(_LETTERS[name] for name, _ in events)
    assert _GRAMMAR.match(letters), letters
    blocks: list[dict[str, Any]] = []
    open_index = None
    for name, data in events:
        if name == "content_block_start":
            assert data["index"] == len(blocks), (data, len(blocks))
            blocks.append({**data["content_block"], "_json": ""})
            open_index = data["index"]
        elif name == "content_block_delta":
            assert data["index"] == open_index
            block, delta = blocks[open_index], data["delta"]
            if delta["type"] == "text_delta":
                block["text"] += delta["text"]
            elif delta["type"] == "thinking_delta":
                block["thinking"] += delta["thinking"]
            elif delta["type"] == "input_json_delta":
                block["_json"] += delta["partial_json"]
            elif delta["type"] == "signature_delta":
                block["signature"] = delta["signature"]
            else:
                raise AssertionError(delta)
        elif name == "content_block_stop":
            assert data["index"] == open_index
            open_index = None
    for block in blocks:
        raw = block.pop("_json")
        if block["type"] == "tool_use":
            block["input"] = orjson.loads(raw) if raw else {}
    return blocks


def stop_and_usage(events: list[tuple[str, dict[str, Any]]]) -> tuple[str, dict[str, Any]]:
    delta = next(data for name, data in events if name == "message_delta")
    return delta["delta"]["stop_reason"], delta["usage"]
