"""The OpenAI-family adaptor: URL rules per channel type, headers, bodies, responses and streams."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import httpx
import orjson
import pytest

from shared.relay import modes
from shared.relay.adaptors import OpenAIAdaptor, adaptor_for_api_type
from shared.relay.types import RelayError, RelayMeta, Usage
from tests.fake_upstream import FakeUpstream

ADAPTOR = OpenAIAdaptor()
PATHS = {
    modes.CHAT: "/v1/chat/completions",
    modes.COMPLETIONS: "/v1/completions",
    modes.EMBEDDINGS: "/v1/embeddings",
    modes.MODERATIONS: "/v1/moderations",
    modes.IMAGES: "/v1/images/generations",
    modes.SPEECH: "/v1/audio/speech",
    modes.TRANSCRIPTION: "/v1/audio/transcriptions",
    modes.TRANSLATION: "/v1/audio/translations",
}


def meta(channel_type: int = 1, mode: int = modes.CHAT, base_url: str = "https://api.openai.com", **kw: Any) -> RelayMeta:
    fields: dict[str, Any] = dict(
        mode=mode,
        channel_type=channel_type,
        channel_id=7,
        base_url=base_url,
        api_key="sk-channel",
        config={},
        origin_model="gpt-3.5-turbo",
        actual_model="gpt-3.5-turbo",
        is_stream=False,
        request_path=PATHS.get(mode, "/v1/chat/completions"),
    )
    fields.update(kw)
    return RelayMeta(**fields)


def url(m: RelayMeta) -> str:
    return ADAPTOR.build_request(m, None, b"{}").url


def test_api_type_table() -> None:
    assert isinstance(adaptor_for_api_type(0), OpenAIAdaptor)
    assert adaptor_for_api_type(19) is None  # Dummy, the count sentinel: every real API type has an adaptor


def test_default_url_is_base_plus_path() -> None:
    assert url(meta(request_path="/v1/chat/completions")) == "https://api.openai.com/v1/chat/completions"
    assert url(meta(channel_type=36, base_url="https://api.deepseek.com")) == "https://api.deepseek.com/v1/chat/completions"


def test_openai_compatible_types_drop_v1_and_one_trailing_slash() -> None:
    assert url(meta(channel_type=50, base_url="https://host/api/v1/")) == "https://host/api/v1/chat/completions"
    gemini_openai = "https://generativelanguage.googleapis.com/v1beta/openai/"
    assert url(meta(channel_type=51, base_url=gemini_openai, mode=modes.EMBEDDINGS)) == (
        "https://generativelanguage.googleapis.com/v1beta/openai/embeddings"
    )


def test_cloudflare_gateway_prefixes() -> None:
    gw = "https://gateway.ai.cloudflare.com/v1/acct/gw/openai"
    assert url(meta(channel_type=1, base_url=gw)) == gw + "/chat/completions"
    azure_gw = "https://gateway.ai.cloudflare.com/v1/acct/gw/azure-openai/res"
    m = meta(channel_type=3, base_url=azure_gw, config={"api_version": "2024-02-01"}, actual_model="gpt-4o")
    assert url(m) == azure_gw + "/gpt-4o/chat/completions?api-version=2024-02-01"
    # Other OpenAI-type channels keep the whole path even behind the gateway.
    assert url(meta(channel_type=36, base_url=gw)) == gw + "/v1/chat/completions"


def test_azure_urls_and_key_header() -> None:
    m = meta(
        channel_type=3,
        base_url="https://res.openai.azure.com",
        config={"api_version": "2024-03-01-preview"},
        actual_model="gpt-3.5-turbo",
        request_path="/v1/chat/completions?foo=bar",
    )
    req = ADAPTOR.build_request(m, None, b"{}")
    assert req.url == "https://res.openai.azure.com/openai/deployments/gpt-35-turbo/chat/completions?api-version=2024-03-01-preview"
    assert req.headers["api-key"] == "sk-channel" and "Authorization" not in req.headers
    images = replace(m, mode=modes.IMAGES, actual_model="dall-e-3", request_path="/v1/images/generations")
    assert url(images) == "https://res.openai.azure.com/openai/deployments/dall-e-3/images/generations?api-version=2024-03-01-preview"
    audio = replace(m, actual_model="whisper-1.5", mode=modes.TRANSCRIPTION, request_path="/v1/audio/transcriptions")
    assert url(audio) == "https://res.openai.azure.com/openai/deployments/whisper-1.5/audio/transcriptions?api-version=2024-03-01-preview"
    speech = replace(audio, mode=modes.SPEECH, actual_model="tts-1", request_path="/v1/audio/speech")
    assert url(speech) == "https://res.openai.azure.com/openai/deployments/tts-1/audio/speech?api-version=2024-03-01-preview"
    translation = replace(audio, mode=modes.TRANSLATION, request_path="/v1/audio/translations")
    assert url(translation) == "https://res.openai.azure.com/v1/audio/translations"
    embeddings = replace(m, mode=modes.EMBEDDINGS, actual_model="text-embedding-3-small", request_path="/v1/embeddings")
    assert (
        url(embeddings)
        == "https://res.openai.azure.com/openai/deployments/text-embedding-3-small/embeddings?api-version=2024-03-01-preview"
    )


@pytest.mark.parametrize(
    "channel_type, mode, model, expected",
    [
        (27, modes.CHAT, "abab6.5", "https://b/v1/text/chatcompletion_v2"),
        (40, modes.CHAT, "doubao-pro", "https://b/api/v3/chat/completions"),
        (40, modes.CHAT, "bot-2024", "https://b/api/v3/bots/chat/completions"),
        (40, modes.EMBEDDINGS, "doubao-embedding", "https://b/api/v3/embeddings"),
        (41, modes.CHAT, "m", "https://b/chat/completions"),
        (47, modes.CHAT, "ernie-4.0", "https://b/v2/chat/completions"),
        (49, modes.CHAT, "qwen-max", "https://b/compatible-mode/v1/chat/completions"),
        (49, modes.EMBEDDINGS, "text-embedding-v3", "https://b/compatible-mode/v1/embeddings"),
    ],
)
def test_special_paths(channel_type: int, mode: int, model: str, expected: str) -> None:
    assert url(meta(channel_type=channel_type, mode=mode, base_url="https://b", actual_model=model)) == expected


@pytest.mark.parametrize(
    "channel_type, mode",
    [
        (27, modes.EMBEDDINGS),
        (40, modes.IMAGES),
        (41, modes.EMBEDDINGS),
        (47, modes.COMPLETIONS),
        (49, modes.MODERATIONS),
    ],
)
def test_special_types_refuse_other_modes(channel_type: int, mode: int) -> None:
    with pytest.raises(RelayError) as info:
        url(meta(channel_type=channel_type, mode=mode, base_url="https://b"))
    assert (info.value.status, info.value.code) == (500, "do_request_failed")
    assert info.value.message == "get request url failed: unsupported relay mode"


def test_headers() -> None:
    plain = ADAPTOR.build_request(meta(client_headers={"content-type": "multipart/form-data; boundary=x"}), None, b"")
    assert plain.headers == {"Content-Type": "multipart/form-data; boundary=x", "Authorization": "Bearer sk-channel"}
    stream = ADAPTOR.build_request(meta(is_stream=True), None, b"")
    assert stream.headers["Accept"] == "text/event-stream"
    client_accept = ADAPTOR.build_request(meta(is_stream=True, client_headers={"accept": "*/*"}), None, b"")
    assert client_accept.headers["Accept"] == "*/*"
    router = ADAPTOR.build_request(meta(channel_type=20, base_url="https://openrouter.ai/api"), None, b"")
    assert router.headers["HTTP-Referer"] == "https://github.com/songquanpeng/one-api" and router.headers["X-Title"] == "One API"


def test_pass_through_and_converted_bodies() -> None:
    assert ADAPTOR.build_request(meta(), None, b'{"model":"x"}').body is None
    body = {"model": "gpt-4o", "messages": [], "stream": True, "stream_options": {"other": 1}, "custom_field": [1]}
    req = ADAPTOR.build_request(meta(is_stream=True), body, b"")
    assert orjson.loads(req.body) == {**body, "stream_options": {"other": 1, "include_usage": True}}
    assert req.headers["Content-Type"] == "application/json"
    assert body["stream_options"] == {"other": 1}  # the engine's dict is not mutated (it is reused on retry)
    plain = ADAPTOR.build_request(meta(), {"model": "m", "messages": []}, b"")
    assert orjson.loads(plain.body) == {"model": "m", "messages": []}


def feed_all(converter: Any, lines: list[bytes]) -> list[bytes]:
    out: list[bytes] = []
    for line in lines:
        out.extend(converter.feed(line))
    out.extend(converter.finish())
    return out


def test_chat_stream_rules() -> None:
    conv = ADAPTOR.stream_converter(meta(is_stream=True))
    c1 = b'{"choices":[{"index":0,"delta":{"content":"Hel"}}]}'
    c2 = b'{"choices":[{"index":0,"delta":{"content":"lo"}}]}'
    usage = b'{"choices":[],"usage":{"prompt_tokens":3,"completion_tokens":2,"total_tokens":5}}'
    lines = [
        b"",
        b": keep-alive",
        b"event: x",
        b"data:",
        b'data: {"choices":[],"prompt_filter_results":[]}',
        b"data: " + c1 + b"\r",
        b"data: " + c2,
        b"data: not json",
        b"data: " + usage,
        b"data: [DONE]",
    ]
    assert feed_all(conv, lines) == [c1, c2, b"not json", usage, b"[DONE]"]
    assert conv.text_parts == ["Hel", "lo"] and conv.saw_done
    assert conv.usage == Usage(3, 2, 5)


def test_stream_without_done_or_usage() -> None:
    conv = ADAPTOR.stream_converter(meta(is_stream=True))
    feed_all(
        conv,
        [b'data: {"choices":[{"delta":{"content":"x"}}],"usage":{"prompt_tokens":0,"completion_tokens":0,"total_tokens":0}}'],
    )
    assert conv.saw_done is False and conv.usage is None and conv.text_parts == ["x"]


def test_completions_stream_accumulates_text() -> None:
    conv = ADAPTOR.stream_converter(meta(mode=modes.COMPLETIONS, is_stream=True))
    chunk = b'{"choices":[{"text":"abc","index":0}]}'
    assert feed_all(conv, [b"data: " + chunk, b'data: {"choices":[]}', b"data: [DONE]"]) == [
        chunk,
        b'{"choices":[]}',
        b"[DONE]",
    ]
    assert conv.text_parts == ["abc"]


def test_other_modes_forward_only_done() -> None:
    conv = ADAPTOR.stream_converter(meta(mode=modes.EMBEDDINGS))
    assert feed_all(conv, [b'data: {"a":1}', b"data: [DONE]"]) == [b"[DONE]"]


def test_convert_response_passes_body_and_reads_usage() -> None:
    body = orjson.dumps(
        {
            "choices": [
                {"message": {"role": "assistant", "content": "hi there"}},
                {"message": {"content": [{"type": "text", "text": "!"}]}},
            ],
            "usage": {"prompt_tokens": 4, "completion_tokens": 3, "total_tokens": 7},
        }
    )
    out = ADAPTOR.convert_response(meta(), 200, {"Content-Type": "application/json; charset=utf-8"}, body)
    assert (out.status, out.body, out.usage, out.text) == (200, body, Usage(4, 3, 7), "hi there!")
    assert out.content_type == "application/json; charset=utf-8"
    zero = orjson.dumps({"choices": [{"text": "t"}], "usage": {"prompt_tokens": 0, "completion_tokens": 0, "total_tokens": 9}})
    assert ADAPTOR.convert_response(meta(mode=modes.COMPLETIONS), 200, {}, zero).usage is None
    assert ADAPTOR.convert_response(meta(mode=modes.COMPLETIONS), 200, {}, zero).text == "t"


def test_convert_response_error_in_200_body() -> None:
    body = b'{"error":{"message":"overloaded","type":"server_error","param":null,"code":null}}'
    with pytest.raises(RelayError) as info:
        ADAPTOR.convert_response(meta(), 200, {}, body)
    assert (info.value.status, info.value.message, info.value.type) == (200, "overloaded", "server_error")
    with pytest.raises(RelayError) as bad:
        ADAPTOR.convert_response(meta(), 200, {}, b"<html>")
    assert bad.value.code == "unmarshal_response_body_failed" and bad.value.status == 500


def test_images_and_speech_are_copied() -> None:
    out = ADAPTOR.convert_response(meta(mode=modes.IMAGES), 200, {"content-type": "application/json"}, b'{"data":[]}')
    assert out.body == b'{"data":[]}' and out.usage is None
    audio = ADAPTOR.convert_response(meta(mode=modes.SPEECH), 200, {"content-type": "audio/mpeg"}, b"ID3...")
    assert (audio.body, audio.content_type) == (b"ID3...", "audio/mpeg")


@pytest.mark.parametrize(
    "body, text",
    [
        (b'{"text":"hello world"}', "hello world"),
        (b'{"task":"transcribe","text":"verbose","segments":[]}', "verbose"),
        (b"plain text\n", "plain text\n"),
        (
            b"1\n00:00:00,000 --> 00:00:02,000\nline one\n\n2\n00:00:02,000 --> 00:00:03,000\nline two\n",
            "line one\nline two",
        ),
        (b"WEBVTT\n\n00:00:00.000 --> 00:00:02.000\nvtt text\n", "vtt text"),
    ],
)
def test_transcription_text(body: bytes, text: str) -> None:
    out = ADAPTOR.convert_response(meta(mode=modes.TRANSCRIPTION), 200, {}, body)
    assert out.text == text and out.body == body and out.usage is None


def test_transcription_error_json() -> None:
    with pytest.raises(RelayError) as info:
        ADAPTOR.convert_response(
            meta(mode=modes.TRANSLATION),
            200,
            {},
            b'{"error":{"message":"bad audio","type":"invalid_request_error","code":"x"}}',
        )
    assert (info.value.status, info.value.code) == (500, "request_error")
    assert info.value.message == "type invalid_request_error, code x, message bad audio"


# Round trips through the fake upstream over real HTTP.


async def _send_stream(req: Any, converter: Any) -> list[bytes]:
    out: list[bytes] = []
    async with httpx.AsyncClient() as client:
        async with client.stream(req.method, req.url, headers=req.headers, content=req.body) as resp:
            assert resp.status_code == 200
            async for line in resp.aiter_lines():
                out.extend(converter.feed(line.encode()))
    out.extend(converter.finish())
    return out


async def test_round_trip_converted_stream_gets_usage(fake_upstream: FakeUpstream) -> None:
    m = meta(base_url=fake_upstream.url, is_stream=True, actual_model="gpt-4o")
    body = {"model": "gpt-4o", "stream": True, "messages": [{"role": "user", "content": "hi"}]}
    req = ADAPTOR.build_request(m, body, b"")
    conv = ADAPTOR.stream_converter(m)
    payloads = await _send_stream(req, conv)
    assert payloads[-1] == b"[DONE]" and conv.saw_done
    assert "".join(conv.text_parts) == fake_upstream.state.canned.reply_text
    assert conv.usage == Usage(17, 11, 28)
    assert fake_upstream.last.headers["authorization"] == "Bearer sk-channel"


async def test_round_trip_azure_stream_drops_the_empty_first_chunk(fake_upstream: FakeUpstream) -> None:
    m = meta(channel_type=3, base_url=fake_upstream.url, is_stream=True, config={"api_version": "2024-02-01"})
    raw = orjson.dumps({"model": "gpt-3.5-turbo", "stream": True, "messages": [{"role": "user", "content": "hi"}]})
    req = ADAPTOR.build_request(m, None, raw)
    req.body = raw  # the engine sends the client's bytes for a pass-through
    conv = ADAPTOR.stream_converter(m)
    payloads = await _send_stream(req, conv)
    assert all(orjson.loads(p)["choices"] for p in payloads[:-1])
    assert conv.usage is None and "".join(conv.text_parts) == fake_upstream.state.canned.reply_text
    assert fake_upstream.last.path == "/openai/deployments/gpt-35-turbo/chat/completions"
    assert fake_upstream.last.query == "api-version=2024-02-01" and fake_upstream.last.key == "sk-channel"


async def test_round_trip_non_stream_embeddings(fake_upstream: FakeUpstream) -> None:
    m = meta(mode=modes.EMBEDDINGS, base_url=fake_upstream.url, actual_model="text-embedding-3-small")
    req = ADAPTOR.build_request(m, {"model": "text-embedding-3-small", "input": ["a", "b"]}, b"")
    async with httpx.AsyncClient() as client:
        resp = await client.post(req.url, headers=req.headers, content=req.body)
    out = ADAPTOR.convert_response(m, resp.status_code, resp.headers, resp.content)
    assert out.usage == Usage(10, 0, 10) and len(orjson.loads(out.body)["data"]) == 2
