"""Pieces every fake provider uses: the call context, SSE responses that can be cut, JSON replies."""

from __future__ import annotations

import asyncio
import hashlib
from collections.abc import AsyncIterator, Iterable
from dataclasses import dataclass
from typing import Any

import orjson
from starlette.requests import Request
from starlette.responses import Response, StreamingResponse

from tests.fake_upstream.state import Behaviour, Canned, RecordedRequest

CREATED = 1700000000  # fixed, so answers are byte-for-byte deterministic


class StreamCut(Exception):
    """Raised inside a response body to make the server drop the connection mid-answer."""


@dataclass
class Call:
    request: Request
    body: bytes
    doc: Any  # the parsed JSON body, or None
    behaviour: Behaviour | None
    record: RecordedRequest
    canned: Canned

    @property
    def kind(self) -> str:
        return self.behaviour.kind if self.behaviour else ""

    def field(self, name: str, default: Any = None) -> Any:
        return self.doc.get(name, default) if isinstance(self.doc, dict) else default


def json_response(call: Call, payload: Any, status: int = 200, usage: dict[str, int] | None = None) -> Response:
    """A JSON answer; `usage` is what this answer reports, recorded for billing checks. A `cut`
    behaviour sends half the body and then drops the connection."""
    body = orjson.dumps(payload)
    if call.kind == "cut":

        async def half() -> AsyncIterator[bytes]:
            yield body[: len(body) // 2]
            raise StreamCut()

        return StreamingResponse(half(), status_code=status, media_type="application/json")
    call.record.served_usage = usage
    return Response(body, status_code=status, media_type="application/json")


def sse_response(call: Call, events: Iterable[tuple[bytes, dict[str, int] | None]]) -> StreamingResponse:
    """Stream already formatted SSE events; an event paired with a usage dict reports that usage.
    A `cut` behaviour drops the connection after `after` events."""
    cut_after = call.behaviour.after if call.kind == "cut" else None

    async def body() -> AsyncIterator[bytes]:
        for sent, (event, usage) in enumerate(events):
            if cut_after is not None and sent >= cut_after:
                raise StreamCut()
            yield event
            if usage is not None:
                call.record.served_usage = usage
            await asyncio.sleep(0)  # let each event leave as its own chunk

    return StreamingResponse(body(), media_type="text/event-stream", headers={"Cache-Control": "no-cache"})


def data_event(payload: Any) -> bytes:
    raw = payload if isinstance(payload, bytes) else orjson.dumps(payload)
    return b"data: " + raw + b"\n\n"


def vector(text: str, size: int = 8) -> list[float]:
    """A deterministic embedding of `text` (8 numbers unless a request asks for `dimensions`)."""
    digest = hashlib.sha256(text.encode()).digest()
    while len(digest) < size:
        digest += hashlib.sha256(digest[-32:]).digest()
    return [round(b / 255, 6) for b in digest[:size]]


def usage_dict(prompt: int, completion: int) -> dict[str, int]:
    return {"prompt_tokens": prompt, "completion_tokens": completion, "total_tokens": prompt + completion}


def wants_tool_call(messages: Any, tools: Any) -> bool:
    """A real model's loop, made deterministic: call the first tool when tools are offered and the
    last turn is the user's (not a tool result); answer in text otherwise."""
    if not tools or not isinstance(messages, list) or not messages:
        return False
    last = messages[-1]
    return isinstance(last, dict) and last.get("role") == "user" and not _has_tool_result(last)


def _has_tool_result(message: dict[str, Any]) -> bool:
    content = message.get("content")
    return isinstance(content, list) and any(isinstance(p, dict) and p.get("type") == "tool_result" for p in content)


TOOL_ARGUMENTS = {"query": "fake"}
