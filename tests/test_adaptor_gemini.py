"""The Gemini adaptor: URL versions, request conversion, answers, streams and embeddings."""

from __future__ import annotations

import base64
from typing import Any

import httpx
import orjson
import pytest

from shared.relay import modes
from shared.relay.adaptors import GeminiAdaptor, adaptor_for_api_type
from shared.relay.types import RelayError, RelayMeta, Usage
from tests.fake_upstream import FakeUpstream

ADAPTOR = GeminiAdaptor()
BASE = "https://generativelanguage.googleapis.com"
PNG = base64.b64encode(b"\x89PNG").decode()


def meta(model: str = "gemini-pro", **kw: Any) -> RelayMeta:
    fields: dict[str, Any] = dict(
        mode=modes.CHAT,
        channel_type=24,
        channel_id=5,
        base_url=BASE,
        api_key="AIza-key",
        config={},
        origin_model=model,
        actual_model=model,
        is_stream=False,
        request_path="/v1/chat/completions",
        gemini_safety_setting="BLOCK_ONLY_HIGH",
    )
    fields.update(kw)
    return RelayMeta(**fields)


def build(body: dict[str, Any], **kw: Any) -> tuple[Any, dict[str, Any]]:
    req = ADAPTOR.build_request(meta(**kw), body, b"")
    return req, orjson.loads(req.body)


def user(text: str) -> dict[str, Any]:
    return {"role": "user", "content": text}


def test_urls_versions_and_headers() -> None:
    assert isinstance(adaptor_for_api_type(9), GeminiAdaptor)
    req, _ = build({"messages": [user("hi")]})
    assert req.url == f"{BASE}/v1/models/gemini-pro:generateContent"
    assert req.headers["x-goog-api-key"] == "AIza-key" and "Authorization" not in req.headers
    assert build({"messages": []}, model="gemini-1.5-pro")[0].url == f"{BASE}/v1beta/models/gemini-1.5-pro:generateContent"
    assert (
        build({"messages": []}, model="gemini-2.0-flash", is_stream=True)[0].url
        == f"{BASE}/v1beta/models/gemini-2.0-flash:streamGenerateContent?alt=sse"
    )
    assert build({"messages": []}, gemini_version="v1beta")[0].url == f"{BASE}/v1beta/models/gemini-pro:generateContent"
    assert (
        build({"messages": []}, model="gemini-1.5-pro", config={"api_version": "v1alpha"})[0].url
        == f"{BASE}/v1alpha/models/gemini-1.5-pro:generateContent"
    )
    embed = ADAPTOR.build_request(meta("text-embedding-004", mode=modes.EMBEDDINGS, request_path="/v1/embeddings"), {"input": "x"}, b"")
    assert embed.url == f"{BASE}/v1/models/text-embedding-004:batchEmbedContents"
    with pytest.raises(RelayError) as info:
        ADAPTOR.build_request(meta(mode=modes.IMAGES), {"prompt": "x"}, b"")
    assert info.value.message == "get request url failed: unsupported relay mode"


def test_chat_conversion() -> None:
    body = {
        "model": "gemini-pro",
        "temperature": 0.2,
        "top_p": 0.8,
        "max_tokens": 50,
        "stop": ["X"],
        "response_format": {"type": "json_object"},
        "messages": [
            {"role": "system", "content": "be brief"},
            user("hi"),
            {"role": "assistant", "content": "hello"},
            user("bye"),
        ],
    }
    _, sent = build(body)
    assert sent["contents"] == [
        {"role": "user", "parts": [{"text": "be brief"}]},
        {"role": "model", "parts": [{"text": "Okay"}]},
        {"role": "user", "parts": [{"text": "hi"}]},
        {"role": "model", "parts": [{"text": "hello"}]},
        {"role": "user", "parts": [{"text": "bye"}]},
    ]
    assert "systemInstruction" not in sent
    assert [s["category"] for s in sent["safetySettings"]] == [
        "HARM_CATEGORY_HARASSMENT",
        "HARM_CATEGORY_HATE_SPEECH",
        "HARM_CATEGORY_SEXUALLY_EXPLICIT",
        "HARM_CATEGORY_DANGEROUS_CONTENT",
        "HARM_CATEGORY_CIVIC_INTEGRITY",
    ]
    assert {s["threshold"] for s in sent["safetySettings"]} == {"BLOCK_ONLY_HIGH"}
    assert sent["generationConfig"] == {
        "temperature": 0.2,
        "topP": 0.8,
        "maxOutputTokens": 50,
        "stopSequences": ["X"],
        "responseMimeType": "application/json",
    }


def test_system_instruction_for_allow_listed_models() -> None:
    _, sent = build(
        {"model": "gemini-2.0-flash", "messages": [{"role": "system", "content": "sys"}, user("hi")]},
        model="gemini-2.0-flash",
    )
    assert sent["systemInstruction"] == {"parts": [{"text": "sys"}]}
    assert sent["contents"] == [{"role": "user", "parts": [{"text": "hi"}]}]


def test_response_formats() -> None:
    assert build({"messages": [], "response_format": {"type": "text"}})[1]["generationConfig"] == {"responseMimeType": "text/plain"}
    schema = {"type": "object", "properties": {"a": {"type": "string"}}}
    fmt = {"type": "json_schema", "json_schema": {"name": "x", "schema": schema}}
    assert build({"messages": [], "response_format": fmt})[1]["generationConfig"] == {
        "responseMimeType": "application/json",
        "responseSchema": schema,
    }


def test_tools_images_and_tool_turns() -> None:
    fn = {
        "name": "weather",
        "description": "d",
        "parameters": {"type": "object", "properties": {"city": {"type": "string"}}},
    }
    images = [{"type": "image_url", "image_url": {"url": f"data:image/png;base64,{PNG}"}}] * 18
    messages = [
        {"role": "user", "content": [{"type": "text", "text": "look"}, *images]},
        {
            "role": "assistant",
            "content": "",
            "tool_calls": [{"id": "c1", "type": "function", "function": {"name": "weather", "arguments": '{"city":"Paris"}'}}],
        },
        {"role": "tool", "tool_call_id": "c1", "content": '{"temp": 20}'},
        {"role": "tool", "tool_call_id": "c1", "content": "plain"},
    ]
    _, sent = build({"messages": messages, "tools": [{"type": "function", "function": fn}]})
    assert sent["tools"] == [{"functionDeclarations": [fn]}]
    first = sent["contents"][0]["parts"]
    assert first[0] == {"text": "look"} and len(first) == 17 and first[1] == {"inlineData": {"mimeType": "image/png", "data": PNG}}
    assert sent["contents"][1] == {
        "role": "model",
        "parts": [{"functionCall": {"name": "weather", "args": {"city": "Paris"}}}],
    }
    assert sent["contents"][2] == {
        "role": "user",
        "parts": [{"functionResponse": {"name": "weather", "response": {"temp": 20}}}],
    }
    assert sent["contents"][3]["parts"][0]["functionResponse"]["response"] == {"content": "plain"}
    assert build({"messages": [], "functions": [fn]})[1]["tools"] == [{"functionDeclarations": [fn]}]


def test_response_conversion() -> None:
    body = {
        "candidates": [
            {"content": {"role": "model", "parts": [{"text": "Hello "}, {"text": "world"}]}, "finishReason": "STOP"},
            {
                "content": {
                    "role": "model",
                    "parts": [{"functionCall": {"name": "weather", "args": {"city": "Rome"}}}],
                },
                "finishReason": "STOP",
            },
            {"content": {"role": "model", "parts": [{"text": "cut"}]}, "finishReason": "MAX_TOKENS"},
        ],
        "usageMetadata": {"promptTokenCount": 4, "candidatesTokenCount": 6, "totalTokenCount": 10},
    }
    out = ADAPTOR.convert_response(meta(), 200, {}, orjson.dumps(body))
    answer = orjson.loads(out.body)
    assert answer["object"] == "chat.completion" and answer["id"].startswith("chatcmpl-") and answer["model"] == "gemini-pro"
    first, second, third = answer["choices"]
    assert first["message"] == {"role": "assistant", "content": "Hello world"} and first["finish_reason"] == "stop"
    call = second["message"]["tool_calls"][0]
    assert call["id"].startswith("call_") and call["function"] == {"name": "weather", "arguments": '{"city":"Rome"}'}
    assert second["finish_reason"] == "tool_calls" and second["message"]["content"] is None
    assert third["finish_reason"] == "length"
    assert out.usage is None and out.text == "Hello worldcut"  # billing counts locally, as One API does
    assert answer["usage"] == {"prompt_tokens": 4, "completion_tokens": 6, "total_tokens": 10}


def test_no_candidates_and_errors() -> None:
    with pytest.raises(RelayError) as info:
        ADAPTOR.convert_response(meta(), 200, {}, b'{"candidates": [], "promptFeedback": {"blockReason": "SAFETY"}}')
    assert (info.value.status, info.value.message, info.value.type, info.value.code) == (
        200,
        "No candidates returned",
        "server_error",
        500,
    )
    with pytest.raises(RelayError) as err:
        ADAPTOR.convert_response(meta(), 200, {}, b'{"error": {"code": 503, "message": "overloaded", "status": "UNAVAILABLE"}}')
    assert err.value.message == "overloaded" and err.value.type == "server_error"


def test_stream_conversion() -> None:
    conv = ADAPTOR.stream_converter(meta(is_stream=True))
    lines = [
        b'data: {"candidates":[{"content":{"role":"model","parts":[{"text":"Hel"}]},"index":0}]}',
        b"",
        b'data: {"candidates":[{"content":{"role":"model","parts":[{"text":"lo"}]},"finishReason":"STOP","index":0}],"usageMetadata":{"promptTokenCount":3}}\r',
        b'data: {"usageMetadata":{"promptTokenCount":3}}',
    ]
    chunks = [orjson.loads(p) for line in lines for p in conv.feed(line)]
    assert len(chunks) == 2 and {c["model"] for c in chunks} == {"gemini"} and len({c["id"] for c in chunks}) == 1
    assert [c["choices"][0]["delta"]["content"] for c in chunks] == ["Hel", "lo"]
    assert [c["choices"][0]["finish_reason"] for c in chunks] == [None, "stop"]
    assert conv.usage is None and conv.text_parts == ["Hel", "lo"] and not conv.saw_done


def test_embeddings() -> None:
    m = meta("text-embedding-004", mode=modes.EMBEDDINGS, request_path="/v1/embeddings")
    req = ADAPTOR.build_request(m, {"model": "text-embedding-004", "input": ["a", "b"]}, b"")
    assert orjson.loads(req.body) == {
        "requests": [
            {"model": "models/text-embedding-004", "content": {"parts": [{"text": "a"}]}},
            {"model": "models/text-embedding-004", "content": {"parts": [{"text": "b"}]}},
        ]
    }
    out = ADAPTOR.convert_response(m, 200, {}, b'{"embeddings": [{"values": [0.1, 0.2]}, {"values": [0.3]}]}')
    answer = orjson.loads(out.body)
    assert answer["data"] == [
        {"object": "embedding", "embedding": [0.1, 0.2], "index": 0},
        {"object": "embedding", "embedding": [0.3], "index": 1},
    ]
    assert answer["usage"] == {"prompt_tokens": 0, "completion_tokens": 0, "total_tokens": 0} and out.usage == Usage()
    with pytest.raises(RelayError):
        ADAPTOR.build_request(m, {"input": [[1, 2, 3]]}, b"")


async def test_round_trip_with_the_fake(fake_upstream: FakeUpstream) -> None:
    reply = fake_upstream.state.canned.reply_text
    async with httpx.AsyncClient() as client:
        m = meta(base_url=fake_upstream.url)
        req = ADAPTOR.build_request(m, {"messages": [user("hi")]}, b"")
        resp = await client.post(req.url, headers=req.headers, content=req.body)
        assert ADAPTOR.convert_response(m, resp.status_code, resp.headers, resp.content).text == reply
        assert fake_upstream.last.path == "/v1/models/gemini-pro:generateContent" and fake_upstream.last.key == "AIza-key"

        sm = meta("gemini-1.5-flash", base_url=fake_upstream.url, is_stream=True)
        req = ADAPTOR.build_request(sm, {"messages": [user("hi")], "stream": True}, b"")
        conv = ADAPTOR.stream_converter(sm)
        async with client.stream("POST", req.url, headers=req.headers, content=req.body) as resp:
            payloads = [p async for line in resp.aiter_lines() for p in conv.feed(line.encode())]
        assert "".join(conv.text_parts) == reply and len(payloads) == len(fake_upstream.state.canned.words)
        assert fake_upstream.last.query == "alt=sse"

        tool = {"type": "function", "function": {"name": "lookup", "parameters": {"type": "object", "properties": {}}}}
        req = ADAPTOR.build_request(m, {"messages": [user("find")], "tools": [tool]}, b"")
        resp = await client.post(req.url, headers=req.headers, content=req.body)
        answer = orjson.loads(ADAPTOR.convert_response(m, resp.status_code, resp.headers, resp.content).body)
        assert answer["choices"][0]["message"]["tool_calls"][0]["function"]["name"] == "lookup"


async def test_prepare_inlines_remote_images() -> None:
    class Client:
        async def fetch(self, url: str) -> tuple[str, bytes]:
            return "image/png", b"\x89PNG"

    part = {"type": "image_url", "image_url": {"url": "https://img/x.png"}}
    body = {"messages": [{"role": "user", "content": [part]}]}
    with pytest.raises(RelayError) as info:  # no client on this node: refused, never fetched by the adaptor
        await ADAPTOR.prepare(body, None)
        build(body)
    assert info.value.code == "invalid_image_url"
    await ADAPTOR.prepare(body, Client())
    _, sent = build(body)
    assert sent["contents"][0]["parts"] == [{"inlineData": {"mimeType": "image/png", "data": PNG}}]
