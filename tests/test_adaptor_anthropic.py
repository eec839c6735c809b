"""The Anthropic adaptor: chat -> Messages request, Messages answer and stream -> chat.completion."""

from __future__ import annotations

import base64
from typing import Any

import httpx
import orjson
import pytest

from shared.relay import modes
from shared.relay.adaptors import AnthropicAdaptor, adaptor_for_api_type, inline_images
from shared.relay.types import RelayError, RelayMeta, Usage
from tests.fake_upstream import FakeUpstream

ADAPTOR = AnthropicAdaptor()
PNG = base64.b64encode(b"\x89PNG fake").decode()


def meta(**kw: Any) -> RelayMeta:
    fields: dict[str, Any] = dict(
        mode=modes.CHAT,
        channel_type=14,
        channel_id=3,
        base_url="https://api.anthropic.com",
        api_key="sk-ant",
        config={},
        origin_model="claude-3-haiku-20240307",
        actual_model="claude-3-haiku-20240307",
        is_stream=False,
        request_path="/v1/chat/completions",
    )
    fields.update(kw)
    return RelayMeta(**fields)


def build(body: dict[str, Any], **kw: Any) -> tuple[Any, dict[str, Any]]:
    req = ADAPTOR.build_request(meta(**kw), body, b"")
    return req, orjson.loads(req.body)


def test_url_headers_and_defaults() -> None:
    assert isinstance(adaptor_for_api_type(1), AnthropicAdaptor)
    req, sent = build({"model": "claude-3-haiku-20240307", "messages": [{"role": "user", "content": "hi"}]})
    assert req.url == "https://api.anthropic.com/v1/messages" and req.method == "POST"
    assert req.headers["x-api-key"] == "sk-ant" and req.headers["anthropic-version"] == "2023-06-01"
    assert req.headers["anthropic-beta"] == "messages-2023-12-15" and "Authorization" not in req.headers
    assert sent == {
        "model": "claude-3-haiku-20240307",
        "max_tokens": 4096,
        "messages": [{"role": "user", "content": [{"type": "text", "text": "hi"}]}],
    }
    req, _ = build(
        {"model": "m", "messages": []},
        actual_model="claude-3-5-sonnet-20241022",
        client_headers={"anthropic-version": "2024-01-01"},
        is_stream=True,
    )
    assert req.headers["anthropic-beta"] == "max-tokens-3-5-sonnet-2024-07-15"
    assert req.headers["anthropic-version"] == "2024-01-01" and req.headers["Accept"] == "text/event-stream"


def test_parameters_system_and_aliases() -> None:
    body = {
        "model": "claude-2",
        "max_tokens": 100,
        "temperature": 0.5,
        "top_p": 0.9,
        "top_k": 5,
        "stream": True,
        "stop": "END",
        "messages": [
            {"role": "system", "content": "be brief"},
            {"role": "system", "content": [{"type": "text", "text": "and kind"}]},
            {"role": "user", "content": "hi"},
        ],
    }
    _, sent = build(body)
    assert sent["model"] == "claude-2.1" and sent["max_tokens"] == 100 and sent["stream"] is True
    assert (sent["temperature"], sent["top_p"], sent["top_k"], sent["stop_sequences"]) == (0.5, 0.9, 5, ["END"])
    assert sent["system"] == "be brief\nand kind" and [m["role"] for m in sent["messages"]] == ["user"]
    assert build({"model": "claude-instant-1", "messages": []})[1]["model"] == "claude-instant-1.1"


def test_tools_and_tool_choice() -> None:
    tools = [
        {
            "type": "function",
            "function": {
                "name": "weather",
                "description": "get weather",
                "parameters": {"type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"]},
            },
        }
    ]
    base = {"model": "m", "messages": [{"role": "user", "content": "hi"}], "tools": tools}
    _, sent = build(base)
    assert sent["tools"] == [{"name": "weather", "description": "get weather", "input_schema": tools[0]["function"]["parameters"]}]
    assert sent["tool_choice"] == {"type": "auto"}
    assert build({**base, "tool_choice": "any"})[1]["tool_choice"] == {"type": "any"}
    assert build({**base, "tool_choice": "required"})[1]["tool_choice"] == {"type": "any"}
    named = {"type": "function", "function": {"name": "weather"}}
    assert build({**base, "tool_choice": named})[1]["tool_choice"] == {"type": "tool", "name": "weather"}
    assert "tools" not in build({**base, "tool_choice": "none"})[1]


def test_tool_calls_and_results() -> None:
    messages = [
        {"role": "user", "content": "weather in Paris and Rome?"},
        {
            "role": "assistant",
            "content": None,
            "tool_calls": [
                {"id": "t1", "type": "function", "function": {"name": "weather", "arguments": '{"city":"Paris"}'}},
                {"id": "t2", "type": "function", "function": {"name": "weather", "arguments": "not json"}},
            ],
        },
        {"role": "tool", "tool_call_id": "t1", "content": "sunny"},
        {"role": "tool", "tool_call_id": "t2", "content": "rainy"},
    ]
    _, sent = build({"model": "m", "messages": messages})
    assert sent["messages"][1] == {
        "role": "assistant",
        "content": [
            {"type": "tool_use", "id": "t1", "name": "weather", "input": {"city": "Paris"}},
            {"type": "tool_use", "id": "t2", "name": "weather", "input": {}},
        ],
    }
    assert sent["messages"][2] == {
        "role": "user",
        "content": [
            {"type": "tool_result", "tool_use_id": "t1", "content": "sunny"},
            {"type": "tool_result", "tool_use_id": "t2", "content": "rainy"},
        ],
    }


def test_images() -> None:
    content = [
        {"type": "text", "text": "what is this"},
        {"type": "image_url", "image_url": {"url": f"data:image/png;base64,{PNG}"}},
    ]
    _, sent = build({"model": "m", "messages": [{"role": "user", "content": content}]})
    assert sent["messages"][0]["content"][1] == {
        "type": "image",
        "source": {"type": "base64", "media_type": "image/png", "data": PNG},
    }
    with pytest.raises(RelayError) as info:
        build(
            {
                "model": "m",
                "messages": [{"role": "user", "content": [{"type": "image_url", "image_url": {"url": "https://x/y.png"}}]}],
            }
        )
    assert info.value.status == 400 and info.value.code == "invalid_image_url"
    with pytest.raises(RelayError):
        build(
            {
                "model": "m",
                "messages": [
                    {
                        "role": "user",
                        "content": [{"type": "image_url", "image_url": {"url": "data:image/png;base64,@@@"}}],
                    }
                ],
            }
        )


class FakeUserContent:
    """Stands in for the node's hardened client: records URLs, answers with fixed bytes."""

    def __init__(self, content_type: str, data: bytes) -> None:
        self.calls: list[str] = []
        self.answer = (content_type, data)

    async def fetch(self, url: str) -> tuple[str, bytes]:
        self.calls.append(url)
        return self.answer


async def test_prepare_inlines_each_remote_image_once() -> None:
    body = {
        "messages": [
            {
                "role": "user",
                "content": [
                    {"type": "image_url", "image_url": {"url": "https://img/a.gif"}},
                    {"type": "image_url", "image_url": "https://img/a.gif"},
                    {"type": "image_url", "image_url": {"url": f"data:image/png;base64,{PNG}"}},
                    {"type": "text", "text": "x"},
                ],
            }
        ],
        "model": "claude-3-haiku-20240307",
    }
    client = FakeUserContent("application/octet-stream", b"GIF89a")  # generic type: sniffed from the bytes
    await ADAPTOR.prepare(body, client)
    expected = "data:image/gif;base64," + base64.b64encode(b"GIF89a").decode()
    assert client.calls == ["https://img/a.gif"]
    urls = [p.get("image_url") for p in body["messages"][0]["content"]]
    assert urls == [{"url": expected}, {"url": expected}, {"url": f"data:image/png;base64,{PNG}"}, None]
    _, sent = build(body)
    assert sent["messages"][0]["content"][0]["source"]["media_type"] == "image/gif"

    jpeg = {"messages": [{"role": "user", "content": [{"type": "image_url", "image_url": {"url": "https://img/b"}}]}]}
    await inline_images(jpeg, FakeUserContent("image/jpeg; charset=binary", b"\xff\xd8\xff").fetch)
    assert jpeg["messages"][0]["content"][0]["image_url"]["url"].startswith("data:image/jpeg;base64,")

    async def refuse(url: str) -> tuple[str, bytes]:
        raise ValueError("private address")

    with pytest.raises(RelayError) as info:
        await inline_images(
            {"messages": [{"role": "user", "content": [{"type": "image_url", "image_url": {"url": "http://10.0.0.1/x"}}]}]},
            refuse,
        )
    assert info.value.status == 400 and "private address" in info.value.message


def test_other_modes_are_refused() -> None:
    with pytest.raises(RelayError) as info:
        ADAPTOR.build_request(meta(mode=modes.EMBEDDINGS), {"input": "x"}, b"")
    assert info.value.message == "get request url failed: unsupported relay mode"


def test_response_conversion() -> None:
    body = {
        "id": "msg_1",
        "type": "message",
        "role": "assistant",
        "model": "claude-3-haiku-20240307",
        "content": [
            {"type": "text", "text": "Let me check. "},
            {"type": "tool_use", "id": "tu_1", "name": "weather", "input": {"city": "Paris"}},
        ],
        "stop_reason": "tool_use",
        "usage": {"input_tokens": 12, "output_tokens": 30},
    }
    out = ADAPTOR.convert_response(meta(), 200, {}, orjson.dumps(body))
    answer = orjson.loads(out.body)
    assert answer["id"] == "chatcmpl-msg_1" and answer["object"] == "chat.completion" and answer["model"] == "claude-3-haiku-20240307"
    choice = answer["choices"][0]
    assert choice["finish_reason"] == "tool_calls" and choice["message"]["content"] == "Let me check. "
    assert choice["message"]["tool_calls"] == [
        {"id": "tu_1", "type": "function", "function": {"name": "weather", "arguments": '{"city":"Paris"}'}}
    ]
    assert out.usage == Usage(12, 30, 42) and answer["usage"] == {
        "prompt_tokens": 12,
        "completion_tokens": 30,
        "total_tokens": 42,
    }
    for reason, expected in [("end_turn", "stop"), ("stop_sequence", "stop"), ("max_tokens", "length")]:
        out = ADAPTOR.convert_response(meta(), 200, {}, orjson.dumps({**body, "content": [], "stop_reason": reason}))
        assert orjson.loads(out.body)["choices"][0]["finish_reason"] == expected


def test_error_in_a_200_body() -> None:
    with pytest.raises(RelayError) as info:
        ADAPTOR.convert_response(meta(), 200, {}, b'{"type":"error","error":{"type":"overloaded_error","message":"Overloaded"}}')
    assert (info.value.status, info.value.type, info.value.message) == (200, "overloaded_error", "Overloaded")


def _event(kind: str, **payload: Any) -> list[bytes]:
    return [b"event: " + kind.encode(), b"data: " + orjson.dumps({"type": kind, **payload}), b""]


def test_stream_conversion() -> None:
    conv = ADAPTOR.stream_converter(meta(is_stream=True))
    lines = (
        _event(
            "message_start",
            message={"id": "msg_9", "model": "claude-3-opus", "usage": {"input_tokens": 25, "output_tokens": 1}},
        )
        + _event("content_block_start", index=0, content_block={"type": "text", "text": ""})
        + _event("ping")
        + _event("content_block_delta", index=0, delta={"type": "text_delta", "text": "Hi"})
        + _event("content_block_stop", index=0)
        + _event(
            "content_block_start",
            index=1,
            content_block={"type": "tool_use", "id": "tu_1", "name": "weather", "input": {}},
        )
        + _event("content_block_delta", index=1, delta={"type": "input_json_delta", "partial_json": '{"city":'})
        + _event("content_block_delta", index=1, delta={"type": "input_json_delta", "partial_json": '"Paris"}'})
        + _event("message_delta", delta={"stop_reason": "tool_use"}, usage={"output_tokens": 15})
        + _event("message_stop")
    )
    chunks = [orjson.loads(p) for line in lines for p in conv.feed(line)]
    assert all(c["id"] == "chatcmpl-msg_9" and c["model"] == "claude-3-opus" and c["object"] == "chat.completion.chunk" for c in chunks)
    deltas = [c["choices"][0]["delta"] for c in chunks]
    assert deltas[0] == {"role": "assistant", "content": ""}
    assert deltas[1] == {"content": "Hi"}
    assert deltas[2] == {"tool_calls": [{"index": 0, "id": "tu_1", "type": "function", "function": {"name": "weather", "arguments": ""}}]}
    assert [d["tool_calls"][0]["function"]["arguments"] for d in deltas[3:5]] == ['{"city":', '"Paris"}']
    assert chunks[-1]["choices"][0]["finish_reason"] == "tool_calls"
    assert conv.usage == Usage(25, 15, 40) and conv.text_parts == ["Hi"] and not conv.saw_done
    assert list(conv.finish()) == []


def test_stream_error_event_is_forwarded() -> None:
    conv = ADAPTOR.stream_converter(meta(is_stream=True))
    out = list(conv.feed(b'data: {"type":"error","error":{"type":"overloaded_error","message":"Overloaded"}}'))
    assert orjson.loads(out[0]) == {"error": {"type": "overloaded_error", "message": "Overloaded"}}


async def test_round_trip_with_the_fake(fake_upstream: FakeUpstream) -> None:
    m = meta(base_url=fake_upstream.url)
    body = {
        "model": "claude-3-haiku-20240307",
        "messages": [{"role": "system", "content": "sys"}, {"role": "user", "content": "hi"}],
    }
    req = ADAPTOR.build_request(m, body, b"")
    async with httpx.AsyncClient() as client:
        resp = await client.post(req.url, headers=req.headers, content=req.body)
        out = ADAPTOR.convert_response(m, resp.status_code, resp.headers, resp.content)
        assert out.text == fake_upstream.state.canned.reply_text and out.usage == Usage(17, 11, 28)
        assert fake_upstream.last.json()["system"] == "sys" and fake_upstream.last.key == "sk-ant"

        sm = meta(base_url=fake_upstream.url, is_stream=True)
        req = ADAPTOR.build_request(sm, {**body, "stream": True}, b"")
        conv = ADAPTOR.stream_converter(sm)
        async with client.stream("POST", req.url, headers=req.headers, content=req.body) as resp:
            payloads = [p async for line in resp.aiter_lines() for p in conv.feed(line.encode())]
    assert "".join(conv.text_parts) == fake_upstream.state.canned.reply_text
    assert conv.usage == Usage(17, 11, 28) and orjson.loads(payloads[-1])["choices"][0]["finish_reason"] == "stop"
