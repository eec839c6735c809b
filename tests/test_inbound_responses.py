"""The Responses format's pure parts: request -> chat request, chat answer and chat chunks ->
response object and events, sealed ids, and the passthrough URLs (Azure's two shapes)."""

from __future__ import annotations

from typing import Any

import orjson
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from shared.relay.inbound.responses import passthrough
from shared.relay.inbound.responses.answer import convert_answer
from shared.relay.inbound.responses.ids import ResponseIds, ResponseRef
from shared.relay.inbound.responses.request import convert_request, validate
from shared.relay.inbound.responses.stream import ResponsesStream
from shared.relay.types import RelayError, Usage


def _chunk(delta: dict[str, Any], finish: str | None = None, **extra: Any) -> dict[str, Any]:
    return {"object": "chat.completion.chunk", "model": "m", "choices": [{"index": 0, "delta": delta, "finish_reason": finish}], **extra}


def test_request_conversion_covers_messages_tools_and_options() -> None:
    body = validate(
        {
            "model": "m",
            "instructions": "Be brief.",
            "max_output_tokens": 64,
            "temperature": 0.2,
            "stream": True,
            "reasoning": {"effort": "low"},
            "text": {"format": {"type": "json_schema", "name": "x", "schema": {"type": "object"}}},
            "tools": [{"type": "function", "name": "f", "parameters": {"type": "object"}}],
            "tool_choice": {"type": "function", "name": "f"},
            "input": [
                {"role": "developer", "content": "Rules."},
                {
                    "role": "user",
                    "content": [
                        {"type": "input_text", "text": "look"},
                        {"type": "input_image", "image_url": "data:image/png;base64,AA==", "detail": "low"},
                    ],
                },
                {"type": "message", "role": "assistant", "content": [{"type": "output_text", "text": "calling"}]},
                {"type": "function_call", "call_id": "c1", "name": "f", "arguments": "{}"},
                {"type": "function_call", "call_id": "c2", "name": "f", "arguments": '{"a":1}'},
                {"type": "function_call_output", "call_id": "c1", "output": "one"},
                {"type": "function_call_output", "call_id": "c2", "output": [{"type": "input_text", "text": "two"}]},
                {"type": "reasoning", "id": "rs_1", "summary": []},
            ],
        }
    )
    chat, problem = convert_request(body)
    assert problem is None
    assert chat["messages"] == [
        {"role": "system", "content": "Be brief."},
        {"role": "system", "content": "Rules."},
        {
            "role": "user",
            "content": [
                {"type": "text", "text": "look"},
                {"type": "image_url", "image_url": {"url": "data:image/png;base64,AA==", "detail": "low"}},
            ],
        },
        {
            "role": "assistant",
            "content": "calling",
            "tool_calls": [
                {"id": "c1", "type": "function", "function": {"name": "f", "arguments": "{}"}},
                {"id": "c2", "type": "function", "function": {"name": "f", "arguments": '{"a":1}'}},
            ],
        },
        {"role": "tool", "tool_call_id": "c1", "content": "one"},
        {"role": "tool", "tool_call_id": "c2", "content": "two"},
    ]
    assert chat["max_tokens"] == 64 and chat["temperature"] == 0.2 and chat["reasoning_effort"] == "low"
    assert chat["stream"] is True and chat["stream_options"] == {"include_usage": True}
    assert chat["response_format"] == {"type": "json_schema", "json_schema": {"name": "x", "schema": {"type": "object"}}}
    assert chat["tools"] == [{"type": "function", "function": {"name": "f", "parameters": {"type": "object"}}}]
    assert chat["tool_choice"] == {"type": "function", "function": {"name": "f"}}


def test_what_chat_cannot_carry_is_named_not_dropped() -> None:
    for body in (
        {"model": "m", "input": "x", "tools": [{"type": "web_search"}]},
        {"model": "m", "input": [{"type": "item_reference", "id": "msg_1"}]},
        {"model": "m", "input": [{"role": "user", "content": [{"type": "input_file", "file_id": "f"}]}]},
        {"model": "m", "input": "x", "previous_response_id": "resp_1"},
        {"model": "m", "input": "x", "conversation": "conv_1"},
    ):
        chat, problem = convert_request(validate(body))
        assert isinstance(problem, RelayError) and problem.status == 400 and chat["messages"], body
    for bad in (
        {"model": ""},
        {"model": "m", "input": {}},
        {"model": "m", "input": "x", "max_output_tokens": True},
        {"model": "m", "background": True},
    ):
        with pytest.raises(RelayError):
            convert_request(validate(bad))


def test_whole_answer_conversion() -> None:
    chat = {
        "model": "m-1",
        "choices": [
            {
                "index": 0,
                "finish_reason": "length",
                "message": {
                    "role": "assistant",
                    "content": "partial",
                    "reasoning_content": "thinking",
                    "tool_calls": [{"id": "call_1", "type": "function", "function": {"name": "f", "arguments": "{}"}}],
                },
            }
        ],
    }
    response = convert_answer(chat, {"model": "m", "instructions": "i"}, "resp_x", Usage(3, 4, 7))
    assert response["id"] == "resp_x" and response["model"] == "m-1" and response["instructions"] == "i"
    assert response["status"] == "incomplete" and response["incomplete_details"] == {"reason": "max_output_tokens"}
    assert [item["type"] for item in response["output"]] == ["reasoning", "message", "function_call"]
    assert response["output"][1]["content"][0]["text"] == "partial"
    assert response["output"][2]["call_id"] == "call_1"
    assert response["usage"]["input_tokens"] == 3 and response["usage"]["output_tokens"] == 4 and response["usage"]["total_tokens"] == 7


def test_stream_conversion_orders_items_and_closes_them() -> None:
    stream = ResponsesStream({"model": "m"}, "resp_s", "m")
    events = stream.start()
    events += stream.feed(_chunk({"role": "assistant", "reasoning_content": "hmm"}))
    events += stream.feed(_chunk({"content": "Hel"}))
    events += stream.feed(_chunk({"content": "lo"}))
    events += stream.feed(_chunk({"tool_calls": [{"index": 0, "id": "c0", "function": {"name": "a", "arguments": '{"x"'}}]}))
    events += stream.feed(_chunk({"tool_calls": [{"index": 1, "id": "c1", "function": {"name": "b", "arguments": ""}}]}))
    events += stream.feed(_chunk({"tool_calls": [{"index": 0, "function": {"arguments": ":1}"}}]}))
    events += stream.feed(_chunk({}, "tool_calls"))
    events += stream.feed({"choices": [], "usage": {"prompt_tokens": 5, "completion_tokens": 6, "total_tokens": 11}})
    events += stream.end()
    kinds = [e["type"] for e in events]
    assert kinds[:3] == ["response.created", "response.in_progress", "response.output_item.added"]
    assert [e["sequence_number"] for e in events] == list(range(len(events)))
    assert kinds.index("response.reasoning_summary_text.done") < kinds.index("response.content_part.added")
    assert kinds.index("response.output_text.done") < kinds.index("response.function_call_arguments.delta")
    done = [e for e in events if e["type"] == "response.function_call_arguments.done"]
    assert [(e["name"], e["arguments"]) for e in done] == [("a", '{"x":1}'), ("b", "")]
    final = events[-1]
    assert final["type"] == "response.completed"
    assert [i["type"] for i in final["response"]["output"]] == ["reasoning", "message", "function_call", "function_call"]
    assert final["response"]["output"][1]["content"][0]["text"] == "Hello"
    assert final["response"]["usage"]["total_tokens"] == 11
    assert stream.end() == []  # once


def test_stream_endings_incomplete_failed_and_error_chunks() -> None:
    cut = ResponsesStream({"model": "m"}, "r", "m")
    cut.feed(_chunk({"content": "x"}))
    assert cut.end()[-1]["type"] == "response.failed"  # no finish_reason: the stream broke off
    limited = ResponsesStream({"model": "m"}, "r", "m")
    limited.feed(_chunk({"content": "x"}, "length"))
    last = limited.end(Usage(1, 1, 2))[-1]
    assert last["type"] == "response.incomplete" and last["response"]["incomplete_details"] == {"reason": "max_output_tokens"}
    assert last["response"]["usage"]["total_tokens"] == 2  # the fallback when the stream reported none
    errored = ResponsesStream({"model": "m"}, "r", "m")
    failed = errored.feed({"error": {"type": "overloaded_error", "message": "Overloaded"}})
    assert failed[-1]["type"] == "response.failed"
    assert failed[-1]["response"]["error"] == {"code": "overloaded_error", "message": "Overloaded"}


def test_sealed_ids_open_only_unchanged_and_with_the_same_secret() -> None:
    ids = ResponseIds("secret")
    ref = ResponseRef(7, 42, "resp_upstream_abc")
    sealed = ids.seal(ref)
    assert sealed.startswith("resp_") and "upstream" not in sealed and ids.seal(ref) == sealed
    assert ids.open(sealed) == ref
    assert ResponseIds("other").open(sealed) is None
    flipped = sealed[:-3] + ("A" if sealed[-3] != "A" else "B") + sealed[-2:]
    for bad in (flipped, sealed[:-1], "resp_upstream_abc", "resp_", "x" * 600, "resp_!!!"):
        assert ids.open(bad) is None, bad


def test_passthrough_urls() -> None:
    assert passthrough.url(1, "https://api.openai.com", {}) == "https://api.openai.com/v1/responses"
    assert passthrough.url(50, "https://llm.example/v1", {}) == "https://llm.example/v1/responses"
    assert (
        passthrough.url(3, "https://r.openai.azure.com", {"api_version": "v1"}, "/resp_1")
        == "https://r.openai.azure.com/openai/v1/responses/resp_1"
    )
    assert (
        passthrough.url(3, "https://r.openai.azure.com", {"api_version": "preview"})
        == "https://r.openai.azure.com/openai/v1/responses?api-version=preview"
    )
    assert (
        passthrough.url(3, "https://r.openai.azure.com", {"api_version": "2025-03-01-preview"})
        == "https://r.openai.azure.com/openai/responses?api-version=2025-03-01-preview"
    )
    assert (
        passthrough.url(3, "https://r.openai.azure.com", {"api_version": "2024-03-01-preview"})
        == "https://r.openai.azure.com/openai/v1/responses"
    )
    assert passthrough.azure_deployment("gpt-4.1-mini") == "gpt-41-mini"


def test_passthrough_stream_reseals_ids_and_redacts_keys_in_errors() -> None:
    ids = ResponseIds("s")
    stream = passthrough.PassthroughStream(ids, 3, 9, "sk-channel-secret-key-123456")
    created = list(stream.feed(b'data: {"type":"response.created","sequence_number":0,"response":{"id":"resp_up","status":"in_progress"}}'))
    sealed = orjson.loads(created[0])["response"]["id"]
    assert ids.open(sealed) == ResponseRef(3, 9, "resp_up")
    assert list(stream.feed(b'data: {"type":"response.output_text.delta","delta":"Hi"}')) and stream.text_parts == ["Hi"]
    error = b'data: {"type":"error","message":"bad key sk-channel-secret-key-123456","code":"invalid_api_key"}'
    assert b"secret" not in b"".join(stream.feed(error))
    failed = b'data: {"type":"response.failed","response":{"id":"resp_up","error":{"code":"x","message":"key sk-channel-secret-key-123456"},"usage":{"input_tokens":3,"output_tokens":1}}}'
    out = b"".join(stream.feed(failed))
    assert b"secret" not in out and stream.saw_done and stream.usage == Usage(3, 1, 4)


_json = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(-5, 5)
    | st.sampled_from(
        ["", "x", "user", "function", "message", "input_text", "input_image", "function_call", "function_call_output", "auto"]
    ),
    lambda inner: (
        st.lists(inner, max_size=4)
        | st.dictionaries(
            st.sampled_from(
                [
                    "type",
                    "role",
                    "content",
                    "text",
                    "image_url",
                    "call_id",
                    "name",
                    "arguments",
                    "output",
                    "delta",
                    "choices",
                    "tool_calls",
                    "index",
                    "function",
                    "finish_reason",
                    "usage",
                    "error",
                    "model",
                ]
            ),
            inner,
            max_size=5,
        )
    ),
    max_leaves=20,
)


@settings(max_examples=300, deadline=None)
@given(
    st.dictionaries(
        st.sampled_from(["model", "input", "instructions", "tools", "tool_choice", "text", "reasoning", "max_output_tokens", "stream"]),
        _json,
        max_size=6,
    ),
    st.lists(_json, max_size=6),
)
def test_any_shape_is_converted_or_refused_with_a_400(body: dict[str, Any], chunks: list[Any]) -> None:
    try:
        chat, _ = convert_request(validate({"model": "m", **body}))
    except RelayError as exc:
        assert exc.status == 400
    else:
        assert chat["messages"] and chat["model"]
    for chunk in chunks:
        if isinstance(chunk, dict):
            assert convert_answer(chunk, {"model": "m"}, "r", None)["object"] == "response"
    stream = ResponsesStream({"model": "m"}, "r", "m")
    for chunk in chunks:
        if isinstance(chunk, dict):
            stream.feed(chunk)
    events = stream.end()
    assert stream.ended and (not events or events[-1]["type"] in ("response.completed", "response.incomplete", "response.failed"))
