"""Hypothesis-generated Anthropic Messages requests and chat streams: the /v1/messages converters
convert or refuse with a 4xx, never fail in a way the relay would answer with a 5xx."""

from __future__ import annotations

from typing import Any

import orjson
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from shared.relay import modes
from shared.relay.adaptors.openai.stream import OpenAIStream
from shared.relay.inbound.anthropic import answer
from shared.relay.inbound.anthropic.request import to_chat
from shared.relay.inbound.anthropic.stream import MessagesStream
from shared.relay.text import validate
from shared.relay.types import ConvertedResponse, RelayError

scalars = st.one_of(st.none(), st.booleans(), st.integers(-(2**40), 2**40), st.floats(allow_nan=False), st.text(max_size=12))
json_values = st.recursive(
    scalars,
    lambda inner: st.one_of(st.lists(inner, max_size=3), st.dictionaries(st.text(max_size=6), inner, max_size=3)),
    max_leaves=8,
)
kinds = st.sampled_from(["text", "image", "tool_use", "tool_result", "thinking", "document", "video"])
block = st.one_of(
    json_values,
    st.fixed_dictionaries(
        {"type": kinds},
        optional={
            "text": json_values,
            "id": json_values,
            "name": json_values,
            "input": json_values,
            "tool_use_id": json_values,
            "content": st.one_of(
                json_values, st.lists(st.fixed_dictionaries({"type": st.just("text")}, optional={"text": json_values}), max_size=2)
            ),
            "is_error": json_values,
            "source": st.one_of(
                json_values,
                st.fixed_dictionaries(
                    {"type": st.sampled_from(["base64", "url", "file"])},
                    optional={"media_type": json_values, "data": json_values, "url": json_values},
                ),
            ),
        },
    ),
)
message = st.fixed_dictionaries(
    {},
    optional={
        "role": st.one_of(st.sampled_from(["user", "assistant", "system"]), json_values),
        "content": st.one_of(json_values, st.lists(block, max_size=4)),
    },
)
request = st.fixed_dictionaries(
    {},
    optional={
        "model": st.one_of(st.just("m"), json_values),
        "max_tokens": st.one_of(st.integers(-5, 10**6), json_values),
        "messages": st.one_of(st.lists(message, max_size=4), json_values),
        "system": st.one_of(st.text(max_size=10), st.lists(block, max_size=2), json_values),
        "tools": st.one_of(
            json_values,
            st.lists(
                st.fixed_dictionaries({}, optional={"name": json_values, "input_schema": json_values, "description": json_values}),
                max_size=2,
            ),
        ),
        "tool_choice": json_values,
        "stop_sequences": json_values,
        "stream": json_values,
        "temperature": json_values,
        "thinking": json_values,
        "metadata": json_values,
    },
)


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(body=st.one_of(request, json_values))
def test_requests_convert_or_are_refused_with_4xx(body: Any) -> None:
    try:
        chat = to_chat(body)
        validate(modes.CHAT, chat)
    except RelayError as exc:
        assert 400 <= exc.status < 500, exc
        return
    orjson.dumps(chat)  # what goes upstream serialises


delta = st.fixed_dictionaries(
    {},
    optional={
        "content": json_values,
        "reasoning_content": json_values,
        "tool_calls": st.one_of(
            json_values,
            st.lists(st.fixed_dictionaries({}, optional={"index": json_values, "id": json_values, "function": json_values}), max_size=2),
        ),
    },
)
chunk = st.one_of(
    json_values,
    st.fixed_dictionaries(
        {"choices": st.lists(st.fixed_dictionaries({}, optional={"delta": delta, "finish_reason": json_values}), max_size=2)},
        optional={"usage": json_values, "id": json_values},
    ),
)


@settings(max_examples=300, deadline=None)
@given(chunks=st.lists(chunk, max_size=6), raw=st.lists(st.binary(max_size=20), max_size=2))
def test_streams_always_end_in_anthropic_grammar(chunks: list[Any], raw: list[bytes]) -> None:
    stream = MessagesStream(OpenAIStream(modes.CHAT), "m", 1)
    out = [f for c in chunks for f in stream.feed(b"data: " + orjson.dumps(c))]
    out += [f for line in raw for f in stream.feed(line)]
    out += list(stream.finish())
    names = [frame.split(b"\n", 1)[0] for frame in out]
    assert names[0] == b"event: message_start"
    assert names[-1] in (b"event: message_stop", b"event: error")


answer_doc = st.one_of(
    json_values,
    st.fixed_dictionaries(
        {
            "choices": st.lists(
                st.fixed_dictionaries({}, optional={"message": st.one_of(json_values, delta), "finish_reason": json_values}), max_size=2
            )
        },
        optional={"id": json_values},
    ),
)


@settings(max_examples=300, deadline=None)
@given(doc=answer_doc)
def test_whole_answers_convert(doc: Any) -> None:
    converted = answer.convert(ConvertedResponse(200, orjson.dumps(doc)), "m", 3)
    message = orjson.loads(converted.body)
    assert message["type"] == "message" and isinstance(message["content"], list)
