"""Every adaptor's request converter, fed hypothesis-generated OpenAI requests, never fails in a way
the relay would answer with a 5xx (issue 12 item 9): it converts, or refuses with a 4xx RelayError.

The requests first pass the relay's own text validation (as they would in the engine); a body the
validation refuses never reaches an adaptor. Plus the reported case end to end: a `null` text block
sent through an Anthropic channel is relayed, not answered with 500."""

from __future__ import annotations

from typing import Any

import orjson
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from shared.catalog.channel_types import api_type
from shared.relay import modes
from shared.relay.adaptors import adaptor_for_api_type
from shared.relay.text import validate
from shared.relay.types import RelayError, RelayMeta
from tests.support.relay_kit import relay_world

# One channel type per adaptor: OpenAI, Azure (its own URL rules), Anthropic, Gemini.
CHANNEL_TYPES = (1, 3, 14, 24)
PNG = "data:image/png;base64,iVBORw0KGgo="

scalars = st.one_of(st.none(), st.booleans(), st.integers(-(2**40), 2**40), st.floats(allow_nan=False), st.text(max_size=12))
json_values = st.recursive(
    scalars,
    lambda inner: st.one_of(st.lists(inner, max_size=3), st.dictionaries(st.text(max_size=6), inner, max_size=3)),
    max_leaves=8,
)
# Integers as orjson.loads hands them over: i64 min to u64 max (beyond that a request holds a float).
text_or_junk = st.one_of(st.none(), st.text(max_size=20), st.integers(-(2**63), 2**64 - 1), st.lists(st.text(max_size=4), max_size=2))
parts = st.one_of(
    st.fixed_dictionaries({"type": st.just("text")}, optional={"text": text_or_junk}),
    st.fixed_dictionaries(
        {"type": st.just("image_url")},
        optional={
            "image_url": st.one_of(
                json_values,
                st.just(PNG),
                st.fixed_dictionaries(
                    {"url": st.one_of(st.just(PNG), st.just("data:image/png;base64,!!"), json_values)}, optional={"detail": json_values}
                ),
            )
        },
    ),
    json_values,
)
content = st.one_of(st.none(), st.text(max_size=30), st.lists(parts, max_size=4), json_values)
tool_call = st.one_of(
    json_values,
    st.fixed_dictionaries(
        {"type": st.just("function")},
        optional={
            "id": text_or_junk,
            "function": st.one_of(
                json_values, st.fixed_dictionaries({}, optional={"name": text_or_junk, "arguments": st.one_of(text_or_junk, json_values)})
            ),
        },
    ),
)
message = st.fixed_dictionaries(
    {},
    optional={
        "role": st.one_of(st.sampled_from(["system", "user", "assistant", "tool", "function", "developer"]), json_values),
        "content": content,
        "name": text_or_junk,
        "tool_calls": st.one_of(st.lists(tool_call, max_size=2), json_values),
        "tool_call_id": text_or_junk,
    },
)
tool = st.one_of(
    json_values,
    st.fixed_dictionaries(
        {
            "type": st.just("function"),
            "function": st.fixed_dictionaries({}, optional={"name": text_or_junk, "description": text_or_junk, "parameters": json_values}),
        }
    ),
)
request = st.fixed_dictionaries(
    {
        "model": st.sampled_from(["gpt-4o", "claude-3-5-sonnet-20240620", "gemini-1.5-pro", "gemini-pro"]),
        "messages": st.lists(message, min_size=1, max_size=4),
    },
    optional={
        "max_tokens": json_values,
        "max_completion_tokens": json_values,
        "temperature": json_values,
        "top_p": json_values,
        "top_k": json_values,
        "n": json_values,
        "stream": st.booleans(),
        "stop": st.one_of(json_values, st.lists(text_or_junk, max_size=3)),
        "tools": st.one_of(st.lists(tool, max_size=2), json_values),
        "tool_choice": st.one_of(st.sampled_from(["auto", "none", "required", "any"]), json_values),
        "response_format": json_values,
        "seed": json_values,
        "frequency_penalty": json_values,
        "presence_penalty": json_values,
        "stream_options": json_values,
    },
)
embedding = st.fixed_dictionaries(
    {"model": st.sampled_from(["text-embedding-3-small", "text-embedding-004"])},
    optional={
        "input": st.one_of(json_values, st.lists(text_or_junk, max_size=3)),
        "dimensions": json_values,
        "encoding_format": json_values,
    },
)


def meta_for(channel_type: int, mode: int, body: dict[str, Any]) -> RelayMeta:
    path = "/v1/embeddings" if mode == modes.EMBEDDINGS else "/v1/chat/completions"
    return RelayMeta(
        mode=mode,
        channel_type=channel_type,
        channel_id=1,
        base_url="https://upstream.example",
        api_key="sk-test",
        config={"api_version": "2024-02-01"},
        origin_model=str(body.get("model") or ""),
        actual_model=str(body.get("model") or ""),
        is_stream=bool(body.get("stream")),
        request_path=path,
    )


def convert_everywhere(mode: int, body: Any) -> None:
    try:
        checked = validate(mode, body)
    except RelayError as exc:
        assert exc.status < 500, exc
        return
    for channel_type in CHANNEL_TYPES:
        adaptor = adaptor_for_api_type(api_type(channel_type))
        assert adaptor is not None
        try:
            built = adaptor.build_request(meta_for(channel_type, mode, checked), checked, orjson.dumps(checked))
        except RelayError as exc:
            # Only "this provider does not serve this mode" is a 5xx, on purpose (it lets another channel try).
            assert exc.status < 500 or exc.code == "do_request_failed", (channel_type, exc)
            continue
        assert built.url.startswith("https://upstream.example")
        if built.body is not None:
            orjson.loads(built.body)


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(request)
def test_chat_requests_never_fail_an_adaptor(body: dict[str, Any]) -> None:
    convert_everywhere(modes.CHAT, body)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(embedding)
def test_embedding_requests_never_fail_an_adaptor(body: dict[str, Any]) -> None:
    convert_everywhere(modes.EMBEDDINGS, body)


def test_null_text_block_converts_for_every_adaptor() -> None:
    body = {
        "model": "claude-3-5-sonnet-20240620",
        "messages": [
            {"role": "system", "content": [{"type": "text", "text": None}]},
            {"role": "user", "content": [{"type": "text", "text": None}, {"type": "text", "text": "hi"}]},
            {"role": "tool", "tool_call_id": "x", "content": [{"type": "text", "text": None}]},
        ],
    }
    convert_everywhere(modes.CHAT, body)


async def test_null_text_block_through_an_anthropic_channel(sqlite_database, fake_upstream) -> None:
    async with relay_world(sqlite_database, fake_upstream) as w:
        await w.channel(type=14, models="claude-3-5-sonnet-20240620")
        token = await w.token()
        messages = [
            {"role": "system", "content": [{"type": "text", "text": None}]},
            {"role": "user", "content": [{"type": "text", "text": None}, {"type": "text", "text": "hello"}]},
        ]
        resp = await w.chat(token, model="claude-3-5-sonnet-20240620", messages=messages)
        assert resp.status_code == 200, resp.text
        sent = fake_upstream.last.json()
        assert sent["messages"] == [{"role": "user", "content": [{"type": "text", "text": "hello"}]}]
