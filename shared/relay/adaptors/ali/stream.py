"""DashScope's SSE (`id:`, `event:result`, `:HTTP_STATUS/200`, `data:{output, usage}`) -> OpenAI chunks.

Requests ask for `incremental_output`, so each event's content is the new text only; usage is
cumulative in every event, and the last one is kept."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import orjson

from shared.redact import redact_error
from shared.relay.adaptors.ali.convert import error_of, finish_reason, usage_of
from shared.relay.adaptors.common import content_text, member, now, sse_data
from shared.relay.types import RelayMeta, Usage


class AliStream:
    def __init__(self, meta: RelayMeta) -> None:
        self.usage: Usage | None = None
        self.text_parts: list[str] = []
        self.saw_done = False
        self._model = meta.actual_model
        self._key = meta.api_key
        self._created = now()

    def _chunk(self, request_id: str, delta: dict[str, Any], finish: str | None) -> bytes:
        return orjson.dumps(
            {
                "id": f"chatcmpl-{request_id}",
                "object": "chat.completion.chunk",
                "created": self._created,
                "model": self._model,
                "choices": [{"index": 0, "delta": delta, "finish_reason": finish}],
            }
        )

    def feed(self, line: bytes) -> Iterable[bytes]:
        payload = sse_data(line)
        if not payload:
            return ()  # id:, event:, the `:HTTP_STATUS/200` comment and blanks
        try:
            event = orjson.loads(payload)
        except orjson.JSONDecodeError:
            return ()
        if not isinstance(event, dict):
            return ()
        if event.get("code"):
            error = error_of(400, event)
            body = {"message": error.message, "type": error.type, "param": "", "code": error.code}
            return (orjson.dumps({"error": redact_error(body, self._key)}),)
        usage = usage_of(event.get("usage"))
        if usage is not None:
            self.usage = usage
        request_id = str(event.get("request_id") or "")
        out = []
        for choice in member(event, "output").get("choices") or []:
            if not isinstance(choice, dict):
                continue
            message = member(choice, "message")
            delta: dict[str, Any] = {}
            text = content_text(message.get("content"))
            if text:
                self.text_parts.append(text)
                delta["content"] = text
            if isinstance(message.get("tool_calls"), list):
                delta["tool_calls"] = message["tool_calls"]
            finish = finish_reason(choice.get("finish_reason"))
            if delta or finish:
                out.append(self._chunk(request_id, delta, finish))
        return out

    def finish(self) -> Iterable[bytes]:
        return ()
