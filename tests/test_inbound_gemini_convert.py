"""Gemini inbound converters in isolation: hypothesis-generated Gemini bodies convert or are refused
with a 4xx (never an exception the relay would answer with 500), and the OpenAI SSE the pipeline
writes becomes Gemini's events however the bytes are split between writes."""

from __future__ import annotations

from typing import Any

import orjson
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from shared.relay import modes
from shared.relay.inbound.gemini import request as convert
from shared.relay.inbound.gemini.stream import GeminiStreamWriter
from shared.relay.text import validate
from shared.relay.types import RelayError

scalars = st.one_of(st.none(), st.booleans(), st.integers(-(2**40), 2**40), st.floats(allow_nan=False), st.text(max_size=8))
json_values = st.recursive(
    scalars, lambda inner: st.one_of(st.lists(inner, max_size=3), st.dictionaries(st.text(max_size=6), inner, max_size=3)), max_leaves=8
)
parts = st.one_of(
    json_values,
    st.fixed_dictionaries({}, optional={"text": json_values, "thought": st.booleans()}),
    st.fixed_dictionaries({"inlineData": st.fixed_dictionaries({}, optional={"mimeType": json_values, "data": json_values})}),
    st.fixed_dictionaries({"fileData": st.fixed_dictionaries({}, optional={"fileUri": json_values})}),
    st.fixed_dictionaries(
        {"functionCall": st.fixed_dictionaries({}, optional={"name": json_values, "args": json_values, "id": json_values})}
    ),
    st.fixed_dictionaries({"functionResponse": st.fixed_dictionaries({}, optional={"name": json_values, "response": json_values})}),
)
contents = st.lists(
    st.one_of(
        json_values,
        st.fixed_dictionaries(
            {},
            optional={
                "role": st.sampled_from(["user", "model", "tool", "x"]),
                "parts": st.one_of(json_values, st.lists(parts, max_size=4)),
            },
        ),
    ),
    max_size=4,
)
bodies = st.one_of(
    json_values,
    st.fixed_dictionaries(
        {},
        optional={
            "contents": st.one_of(json_values, contents),
            "systemInstruction": json_values,
            "tools": st.one_of(
                json_values, st.lists(st.fixed_dictionaries({"functionDeclarations": st.lists(json_values, max_size=2)}), max_size=2)
            ),
            "toolConfig": json_values,
            "generationConfig": st.one_of(
                json_values,
                st.fixed_dictionaries(
                    {}, optional={"maxOutputTokens": json_values, "stopSequences": json_values, "responseSchema": json_values}
                ),
            ),
            "requests": st.one_of(json_values, st.lists(st.fixed_dictionaries({}, optional={"content": json_values}), max_size=3)),
            "content": json_values,
        },
    ),
)


@settings(max_examples=400, derandomize=True, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(body=bodies, stream=st.booleans())
def test_any_body_converts_or_is_refused_with_4xx(body: Any, stream: bool) -> None:
    for action in (
        lambda: validate(modes.CHAT, convert.chat_body("gemini-1.5-flash", body, stream)),
        lambda: convert.count_body("gemini-1.5-flash", body),
        lambda: validate(modes.EMBEDDINGS, convert.embed_body("text-embedding-004", body, batch=False)),
        lambda: validate(modes.EMBEDDINGS, convert.embed_body("text-embedding-004", body, batch=True)),
    ):
        try:
            converted = action()
        except RelayError as exc:
            assert 400 <= exc.status < 500, exc.message
        else:
            orjson.dumps(converted)  # what the pipeline sends is JSON


def _openai_stream() -> bytes:
    chunks: list[Any] = [
        {"choices": [{"index": 0, "delta": {"role": "assistant", "content": "Hel"}}]},
        {"choices": [{"index": 0, "delta": {"content": "lo"}}]},
        {
            "choices": [
                {"index": 0, "delta": {"tool_calls": [{"index": 0, "id": "call_9", "function": {"name": "lookup", "arguments": '{"qu'}}]}}
            ]
        },
        {"choices": [{"index": 0, "delta": {"tool_calls": [{"index": 0, "function": {"arguments": 'ery": "fake"}'}}]}}]},
        {"choices": [{"index": 0, "delta": {}, "finish_reason": "tool_calls"}]},
        {"choices": [], "usage": {"prompt_tokens": 11, "completion_tokens": 7, "total_tokens": 18}},
    ]
    return b"".join(b"data: " + orjson.dumps(c) + b"\n\n" for c in chunks) + b"data: [DONE]\n\n"


def _events(raw: bytes) -> list[dict[str, Any]]:
    return [orjson.loads(line[6:]) for line in raw.split(b"\r\n") if line.startswith(b"data: ")]


def test_stream_converts_whatever_the_write_boundaries() -> None:
    raw = _openai_stream()
    expected = None
    for size in (1, 2, 7, 64, len(raw)):
        writer = GeminiStreamWriter("gpt-4o-mini")
        out = b"".join(writer.feed(raw[i : i + size]) for i in range(0, len(raw), size)) + writer.finish()
        events = _events(out)
        texts = [e["candidates"][0]["content"]["parts"][0].get("text") for e in events[:-1]]
        last = events[-1]
        assert "".join(t or "" for t in texts) == "Hello"
        assert last["candidates"][0]["finishReason"] == "STOP"
        assert last["candidates"][0]["content"]["parts"] == [
            {"functionCall": {"name": "lookup", "args": {"query": "fake"}, "id": "call_9"}}
        ]
        assert last["usageMetadata"] == {"promptTokenCount": 11, "candidatesTokenCount": 7, "totalTokenCount": 18}
        expected = expected or events
        assert events == expected


def test_stream_error_and_length_end() -> None:
    writer = GeminiStreamWriter("m")
    error = b'data: {"error": {"message": "upstream broke", "type": "server_error", "code": 503}}\n\n'
    events = _events(writer.feed(error) + writer.finish())
    assert events == [{"error": {"code": 503, "message": "upstream broke", "status": "UNAVAILABLE"}}]
    writer = GeminiStreamWriter("m")
    cut = b'data: {"choices": [{"index": 0, "delta": {}, "finish_reason": "length"}]}\n\n'
    events = _events(writer.feed(cut) + writer.feed(b"data: [DONE]\n\n") + writer.finish())  # QUOTA_STRICT's end
    assert events[-1]["candidates"][0]["finishReason"] == "MAX_TOKENS"
