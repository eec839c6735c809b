"""The Anthropic Messages conversions on their own: request -> chat, chat answer and chat stream ->
Anthropic, the pass-through stream reader (no network)."""

from __future__ import annotations

from typing import Any

import orjson
import pytest

from shared.relay import modes
from shared.relay.adaptors.openai.stream import OpenAIStream
from shared.relay.inbound.anthropic.native import NativeStream
from shared.relay.inbound.anthropic.request import MAX_BLOCKS, to_chat
from shared.relay.inbound.anthropic.stream import MessagesStream
from shared.relay.types import RelayError, RelayMeta
from tests.support.anthropic_events import check_sequence, frames, stop_and_usage


def chunk(delta: dict[str, Any], finish: str | None = None, usage: dict[str, int] | None = None) -> bytes:
    body: dict[str, Any] = {"id": "chatcmpl-1", "choices": [{"index": 0, "delta": delta, "finish_reason": finish}]}
    if usage is not None:
        body = {"id": "chatcmpl-1", "choices": [], "usage": usage}
    return b"data: " + orjson.dumps(body)


def run(lines: list[bytes], finish: bool = True) -> tuple[MessagesStream, list[tuple[str, dict[str, Any]]]]:
    stream = MessagesStream(OpenAIStream(modes.CHAT), "gpt-4o-mini", 9)
    out = [f for line in lines for f in stream.feed(line)]
    if finish:
        out += list(stream.finish())
    return stream, frames(b"".join(out).decode())


def test_tool_results_come_first_and_mixed_content_stays() -> None:
    chat = to_chat(
        {
            "model": "m",
            "max_tokens": 10,
            "tool_choice": {"type": "tool", "name": "Bash"},
            "tools": [{"name": "Bash", "input_schema": {"type": "object"}}, {"type": "web_search_20250305", "name": "web_search"}],
            "messages": [
                {"role": "user", "content": "run it"},
                {
                    "role": "assistant",
                    "content": [
                        {"type": "thinking", "thinking": "hm", "signature": "s"},
                        {"type": "text", "text": "ok"},
                        {"type": "tool_use", "id": "t1", "name": "Bash", "input": {"command": "ls"}},
                    ],
                },
                {
                    "role": "user",
                    "content": [
                        {"type": "text", "text": "and?"},
                        {"type": "tool_result", "tool_use_id": "t1", "is_error": True, "content": "boom"},
                        {"type": "image", "source": {"type": "url", "url": "https://example.com/a.png"}},
                    ],
                },
            ],
        }
    )
    assert chat["tools"] == [{"type": "function", "function": {"name": "Bash", "parameters": {"type": "object"}}}]
    assert chat["tool_choice"] == {"type": "function", "function": {"name": "Bash"}}
    assert chat["messages"] == [
        {"role": "user", "content": "run it"},
        {
            "role": "assistant",
            "content": "ok",
            "tool_calls": [{"id": "t1", "type": "function", "function": {"name": "Bash", "arguments": '{"command":"ls"}'}}],
        },
        {"role": "tool", "tool_call_id": "t1", "content": "Error: boom"},
        {
            "role": "user",
            "content": [{"type": "text", "text": "and?"}, {"type": "image_url", "image_url": {"url": "https://example.com/a.png"}}],
        },
    ]


@pytest.mark.parametrize(
    "body",
    [
        [],
        {"max_tokens": 5, "messages": [{"role": "user", "content": "x"}]},
        {"model": "m", "max_tokens": 0, "messages": [{"role": "user", "content": "x"}]},
        {"model": "m", "max_tokens": 5, "messages": []},
        {"model": "m", "max_tokens": 5, "messages": [{"role": "system", "content": "x"}]},
        {"model": "m", "max_tokens": 5, "messages": [{"role": "user", "content": [{"type": "image", "source": {"type": "file"}}]}]},
        {"model": "m", "max_tokens": 5, "messages": [{"role": "user", "content": [{"type": "tool_result"}]}]},
        {"model": "m", "max_tokens": 5, "messages": [{"role": "user", "content": "x"}], "stop_sequences": "END"},
        {"model": "m", "max_tokens": 5, "messages": [{"role": "user", "content": "x"}], "system": 5},
        {"model": "m", "max_tokens": 5, "messages": [{"role": "user", "content": "x"}], "stream": "yes"},
        {"model": "m", "max_tokens": 5, "messages": [{"role": "user", "content": [{"type": "text", "text": "x"}] * (MAX_BLOCKS + 1)}]},
    ],
)
def test_bad_requests_are_400(body: Any) -> None:
    with pytest.raises(RelayError) as caught:
        to_chat(body)
    assert caught.value.status == 400


def test_parallel_tool_calls_become_sequential_blocks() -> None:
    lines = [
        chunk({"role": "assistant", "content": ""}),
        chunk({"content": "Let me look."}),
        chunk({"tool_calls": [{"index": 0, "id": "a", "type": "function", "function": {"name": "Read", "arguments": ""}}]}),
        chunk({"tool_calls": [{"index": 0, "function": {"arguments": '{"file_path":'}}]}),
        chunk({"tool_calls": [{"index": 0, "function": {"arguments": '"x.py"}'}}]}),
        chunk({"tool_calls": [{"index": 1, "id": "b", "type": "function", "function": {"name": "Bash", "arguments": '{"command":"ls"}'}}]}),
        chunk({}, "tool_calls"),
        chunk({}, usage={"prompt_tokens": 20, "completion_tokens": 7, "total_tokens": 27}),
        b"data: [DONE]",
    ]
    stream, events = run(lines)
    assert check_sequence(events) == [
        {"type": "text", "text": "Let me look."},
        {"type": "tool_use", "id": "a", "name": "Read", "input": {"file_path": "x.py"}},
        {"type": "tool_use", "id": "b", "name": "Bash", "input": {"command": "ls"}},
    ]
    assert stop_and_usage(events) == (
        "tool_use",
        {"input_tokens": 20, "output_tokens": 7, "cache_creation_input_tokens": 0, "cache_read_input_tokens": 0},
    )
    assert stream.usage is not None and stream.usage.total_tokens == 27


def test_an_upstream_that_ends_without_done_still_closes_the_message() -> None:
    _, events = run([chunk({"content": "partial"}), chunk({}, "length")])
    assert check_sequence(events) == [{"type": "text", "text": "partial"}]
    assert stop_and_usage(events)[0] == "max_tokens"
    _, events = run([])  # nothing at all: still a whole (empty) message
    assert check_sequence(events) == [] and stop_and_usage(events)[1]["input_tokens"] == 9


def test_gateway_ends_and_upstream_breaks() -> None:
    stream, _ = run([chunk({"content": "a"})], finish=False)
    cut = frames(b"".join(stream.interrupt(chunk({}, "length")[len(b"data: ") :])).decode())
    assert [name for name, _ in cut] == ["content_block_stop", "message_delta", "message_stop"]
    assert cut[1][1]["delta"]["stop_reason"] == "max_tokens"
    stream, _ = run([chunk({"content": "a"})], finish=False)
    assert [name for name, _ in frames(b"".join(stream.abort("reset")).decode())] == ["error"]
    # An error object a provider's converter relays mid-stream (Anthropic's and Gemini's do).
    stream, _ = run([chunk({"content": "a"})], finish=False)
    error = frames(b"".join(stream.chat_payload(b'{"error": {"message": "overloaded", "type": "server_error"}}')).decode())
    assert error == [("error", {"type": "error", "error": {"type": "api_error", "message": "overloaded"}})]
    assert list(stream.finish()) == []  # nothing after the error


def test_native_stream_keeps_bytes_and_reads_cache_usage() -> None:
    meta = RelayMeta(
        mode=modes.CHAT,
        channel_type=14,
        channel_id=1,
        base_url="",
        api_key="k",
        config={},
        origin_model="c",
        actual_model="c",
        is_stream=True,
        request_path="/v1/chat/completions",
    )
    stream = NativeStream(meta)
    start = {
        "type": "message_start",
        "message": {
            "id": "m",
            "usage": {"input_tokens": 5, "cache_creation_input_tokens": 7, "cache_read_input_tokens": 100, "output_tokens": 1},
        },
    }
    lines = [
        b"event: message_start",
        b"data: " + orjson.dumps(start),
        b"",
        b"event: message_delta",
        b'data: {"type":"message_delta","delta":{"stop_reason":"end_turn"},"usage":{"output_tokens":3}}',
        b"",
    ]
    out = b"".join(f for line in lines for f in stream.feed(line))
    assert out == b"\n".join(lines) + b"\n"
    assert stream.usage is not None
    assert (
        stream.usage.prompt_tokens,
        stream.usage.completion_tokens,
        stream.usage.cache_write_tokens,
        stream.usage.cache_read_tokens,
    ) == (112, 3, 7, 100)


def test_native_stream_ends_on_an_event_boundary() -> None:
    meta = RelayMeta(
        mode=modes.CHAT,
        channel_type=14,
        channel_id=1,
        base_url="",
        api_key="k",
        config={},
        origin_model="c",
        actual_model="c",
        is_stream=True,
        request_path="/v1/chat/completions",
    )
    stream = NativeStream(meta)
    start = {"type": "message_start", "message": {"id": "m", "usage": {"input_tokens": 5, "output_tokens": 1}}}
    block = {"type": "content_block_start", "index": 0, "content_block": {"type": "text", "text": ""}}
    lines = [
        b"event: message_start",
        b"data: " + orjson.dumps(start),
        b"",
        b"event: content_block_start",
        b"data: " + orjson.dumps(block),
        b"",
        b"event: content_block_delta",
    ]  # the rest of this event has not arrived
    out = [f for line in lines for f in stream.feed(line)]
    out += stream.interrupt(b"")
    events = frames(b"".join(out).decode())
    assert check_sequence(events) == [{"type": "text", "text": ""}]
    assert stop_and_usage(events)[0] == "max_tokens"
