"""The converters of Ollama, Coze, Cloudflare, DeepL and AI Proxy's library never raise anything but a
RelayError (an OpenAI-shaped answer), whatever an upstream sends or a client asks: odd JSON types
where objects, strings or numbers are expected, empty bodies, bytes that are not UTF-8."""

from __future__ import annotations

import itertools
from collections.abc import Callable
from typing import Any

import pytest

from shared.relay import modes
from shared.relay.adaptors.registry import adaptor_for
from shared.relay.types import RelayError, RelayMeta

TYPES = (21, 30, 34, 37, 38)
ANSWERS = [
    b"",
    b"null",
    b"[]",
    b"1",
    b'"x"',
    b"{}",
    b"\xff\xfe",
    b'{"message": 5}',
    b'{"messages": 5, "code": 0}',
    b'{"messages": [1, {"type": "answer", "content": 5}]}',
    b'{"translations": [1, {"text": 5, "billed_characters": "x"}]}',
    b'{"result": 5}',
    b'{"result": {"response": 5, "usage": 7}}',
    b'{"errors": [5]}',
    b'{"errors": []}',
    b'{"success": false}',
    b'{"answer": 5, "documents": 5}',
    b'{"documents": [1, {"title": null}]}',
    b'{"error": 5}',
    b'{"embeddings": 5}',
    b'{"message": {"content": 5}, "done": true, "done_reason": 5, "eval_count": "x"}',
    b'{"code": "x", "msg": 5}',
    b'{"errCode": [], "success": false}',
    b'{"event": "error", "error_information": 5}',
    b'{"event": "message", "message": 5}',
    b'data: {"event":"done"}',
    b"data:[DONE]",
    b'data: {"response": 5, "usage": {"total_tokens": "x"}}',
]
REQUESTS: list[dict[str, Any]] = [
    {},
    {"messages": 5},
    {"messages": [5]},
    {"messages": [{"content": 5, "role": 7}]},
    {"prompt": 5},
    {"input": 5},
    {"messages": []},
]


def _meta(type_id: int, mode: int, stream: bool) -> RelayMeta:
    return RelayMeta(
        mode=mode,
        channel_type=type_id,
        channel_id=1,
        base_url="http://upstream",
        api_key="k",
        config={"user_id": "a", "library_id": "l"},
        origin_model="m",
        actual_model="@cf/m",
        is_stream=stream,
        request_path="/v1/x",
    )


def _only_relay_errors(call: Callable[..., Any], *args: Any) -> None:
    try:
        call(*args)
    except RelayError as exc:
        assert 400 <= exc.status < 600


def _stream(converter: Any, line: bytes) -> None:
    list(converter.feed(line))
    list(converter.finish())


@pytest.mark.parametrize(
    ("type_id", "mode", "stream"), list(itertools.product(TYPES, (modes.CHAT, modes.EMBEDDINGS, modes.COMPLETIONS), (False, True)))
)
def test_odd_answers_and_requests_give_relay_errors_only(type_id: int, mode: int, stream: bool) -> None:
    adaptor = adaptor_for(type_id)
    assert adaptor is not None
    meta = _meta(type_id, mode, stream)
    for answer in ANSWERS:
        _only_relay_errors(adaptor.convert_response, meta, 200, {}, answer)
        _only_relay_errors(_stream, adaptor.stream_converter(meta), answer)
        parse = getattr(adaptor, "upstream_error", None)
        if parse is not None:
            assert isinstance(parse(400, answer), RelayError)
    for body in REQUESTS:
        _only_relay_errors(adaptor.build_request, meta, body, b"")
