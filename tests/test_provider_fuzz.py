"""The Bedrock, Vertex AI, Cohere, PaLM and Replicate converters, fed hypothesis-generated OpenAI
requests and upstream bytes: a request converts or is refused with a 4xx RelayError (or One API's
5xx "unsupported relay mode"), stream converters never raise, and the Bedrock event-stream decoder
refuses garbage with FramingError only."""

from __future__ import annotations

from typing import Any

import orjson
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from shared.relay import modes
from shared.relay.adaptors.aws import eventstream
from shared.relay.adaptors.registry import adaptor_for
from shared.relay.text import validate
from shared.relay.types import RelayError, RelayMeta
from tests.fake_upstream import aws as fake_aws
from tests.security.test_adaptor_fuzz import embedding, request

# type id -> (a model it serves, its key, its config)
PROVIDERS: dict[int, tuple[str, str, dict[str, str]]] = {
    33: ("claude-3-5-sonnet-20241022", "AKID|secret|us-east-1", {}),
    42: ("claude-3-5-haiku@20241022", "key", {"region": "us-east5", "vertex_ai_project_id": "p", "vertex_ai_adc": "{}"}),
    35: ("command-r-internet", "co-key", {}),
    11: ("PaLM-2", "palm-key", {}),
    46: ("meta/meta-llama-3-8b-instruct", "r8_key", {}),
}


def meta_for(type_id: int, mode: int, stream: bool, model: str | None = None) -> RelayMeta:
    default, key, config = PROVIDERS[type_id]
    return RelayMeta(
        mode=mode,
        channel_type=type_id,
        channel_id=1,
        base_url="https://upstream.example",
        api_key=key,
        config=config,
        origin_model=model or default,
        actual_model=model or default,
        is_stream=stream,
        request_path="/v1/chat/completions",
    )


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(request)
def test_chat_requests_convert_or_are_refused_cleanly(body: dict[str, Any]) -> None:
    try:
        checked = validate(modes.CHAT, body)
    except RelayError:
        return
    for type_id in PROVIDERS:
        adaptor = adaptor_for(type_id)
        assert adaptor is not None
        meta = meta_for(type_id, modes.CHAT, bool(checked.get("stream")))
        try:
            built = adaptor.build_request(meta, {**checked, "model": meta.actual_model}, orjson.dumps(checked))
        except RelayError as exc:
            assert exc.status < 500 or exc.code == "do_request_failed", (type_id, exc)
            continue
        assert built.url.startswith("https://upstream.example")
        assert built.body is not None
        orjson.loads(built.body)


values = st.one_of(st.none(), st.booleans(), st.text(max_size=8), st.integers(-(2**40), 2**40), st.lists(st.text(max_size=4), max_size=2))
keys = st.one_of(
    st.text(max_size=8),
    st.sampled_from(
        [
            "type",
            "event_type",
            "text",
            "message",
            "delta",
            "usage",
            "response",
            "finish_reason",
            "candidates",
            "error",
            "index",
            "content",
            "generation",
            "filters",
            "meta",
            "billed_units",
            "stop_reason",
        ]
    ),
)
objects = st.recursive(
    st.dictionaries(keys, values, max_size=4), lambda inner: st.dictionaries(keys, st.one_of(values, inner), max_size=4), max_leaves=10
)
lines = st.one_of(
    st.binary(max_size=80),
    st.builds(lambda v: b"data: " + orjson.dumps(v), objects),  # SSE (Bedrock, Vertex)
    st.builds(orjson.dumps, objects),  # NDJSON (Cohere), PaLM's JSON
    st.builds(lambda e: b"event: " + e.encode(), st.sampled_from(["output", "done", "error", "x"])),  # Replicate
    st.just(b""),
)


@settings(max_examples=200, deadline=None)
@given(st.lists(lines, max_size=12))
def test_stream_converters_never_raise(feed: list[bytes]) -> None:
    cases = [(type_id, None) for type_id in PROVIDERS] + [(33, "llama3-8b-8192"), (42, "gemini-1.5-pro-002")]
    for type_id, model in cases:
        adaptor = adaptor_for(type_id)
        assert adaptor is not None
        converter = adaptor.stream_converter(meta_for(type_id, modes.CHAT, True, model))
        for line in feed:
            for payload in converter.feed(line):
                orjson.loads(payload)
        for payload in converter.finish():
            orjson.loads(payload)


@settings(max_examples=300, deadline=None)
@given(st.binary(max_size=200), st.integers(0, 60))
def test_event_stream_decoder_refuses_garbage_with_framing_errors_only(noise: bytes, at: int) -> None:
    frame = fake_aws.chunk_frame({"type": "ping"})
    for data in (noise, frame[:at] + noise + frame[at:], bytes(b ^ 0x5A for b in frame[:at]) + frame[at:]):
        try:
            eventstream.Decoder().feed(data)
        except eventstream.FramingError:
            pass


@settings(max_examples=300, deadline=None)
@given(st.one_of(objects, st.binary(max_size=40)))
# Found by this test: a JSON value where a list belongs raised TypeError (a 500) in the Anthropic
# (Bedrock, Vertex Claude), Gemini (Vertex) and PaLM converters.
@example({"content": True})
@example({"candidates": True})
@example({"candidates": [{"content": {"parts": True}}]})
def test_whole_answers_convert_or_raise_relay_errors_only(doc: Any) -> None:
    body = doc if isinstance(doc, bytes) else orjson.dumps(doc)
    cases = [(type_id, None) for type_id in PROVIDERS] + [(33, "llama3-8b-8192"), (42, "gemini-1.5-pro-002")]
    for type_id, model in cases:
        adaptor = adaptor_for(type_id)
        assert adaptor is not None
        try:
            converted = adaptor.convert_response(meta_for(type_id, modes.CHAT, False, model), 200, {}, body)
        except RelayError:
            continue
        orjson.loads(converted.body)


@settings(max_examples=150, deadline=None)
@given(embedding)
def test_cohere_embedding_requests_convert_or_are_refused_cleanly(body: dict[str, Any]) -> None:
    try:
        checked = validate(modes.EMBEDDINGS, body)
    except RelayError:
        return
    adaptor = adaptor_for(35)
    assert adaptor is not None
    try:
        built = adaptor.build_request(meta_for(35, modes.EMBEDDINGS, False, "embed-english-v3.0"), checked, orjson.dumps(checked))
    except RelayError as exc:
        assert exc.status < 500, exc
        return
    assert built.body is not None and orjson.loads(built.body)["texts"]
