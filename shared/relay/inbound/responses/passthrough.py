"""Responses requests passed through to OpenAI and Azure channels: URL, the usage and text of an
answer (for billing), and the stream converter that relays Responses events as they are.

Azure serves the Responses API without a deployment in the URL (the deployment is the body's
`model`): `{base}/openai/v1/responses` for the v1 API, or the older dated
`{base}/openai/responses?api-version=…` from 2025-03-01-preview on. A channel's API version of
2025-03-01 or later selects the dated path; any other (none, `v1`, `preview`, or the older dates
channels keep for chat completions, such as One API's default 2024-03-01-preview) the v1 path. The deployment name follows One API's Azure rule (dots
removed: gpt-3.5-turbo is deployed as gpt-35-turbo).
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any
from urllib.parse import quote

import orjson

from shared.redact import redact_error
from shared.relay.adaptors.azure.spec import AZURE
from shared.relay.adaptors.common import DONE, sse_data
from shared.relay.adaptors.openai.request import full_url, route_of
from shared.relay.adaptors.openai.spec import OPENAI
from shared.relay.inbound.responses.ids import ResponseIds, ResponseRef
from shared.relay.types import Usage

PASSTHROUGH_TYPES = (OPENAI, AZURE)
FIRST_DATED_VERSION = "2025-03-01"  # the first dated Azure API version with the Responses API
_TERMINAL = (b"response.completed", b"response.failed", b"response.incomplete")


def passes_through(channel_type: int) -> bool:
    return channel_type in PASSTHROUGH_TYPES


def azure_deployment(model: str) -> str:
    return model.replace(".", "")


def url(channel_type: int, base_url: str, config: Any, suffix: str = "") -> str:
    """The upstream URL of /v1/responses (suffix "") or /v1/responses/{id}… (suffix "/{id}…")."""
    if channel_type == AZURE:
        version = str(config.get("api_version", "") or "")
        if version[:1].isdigit() and version >= FIRST_DATED_VERSION:
            return f"{base_url}/openai/responses{suffix}?api-version={quote(version, safe='')}"
        query = "?api-version=preview" if version == "preview" else ""
        return f"{base_url}/openai/v1/responses{suffix}{query}"
    return full_url(base_url, f"/v1/responses{suffix}", route_of(channel_type))


def usage_of(value: Any) -> Usage | None:
    """A Responses `usage` (input_tokens, output_tokens) -> Usage; None when absent or empty."""
    if not isinstance(value, dict):
        return None
    prompt, completion = _int(value.get("input_tokens")), _int(value.get("output_tokens"))
    if not prompt and not completion:
        return None
    return Usage(prompt, completion, _int(value.get("total_tokens")) or prompt + completion)


def output_text(response: Any) -> str:
    """The text of a response's output (message text and function arguments), to count when upstream
    reports no usage."""
    parts: list[str] = []
    output = response.get("output") if isinstance(response, dict) else None
    for item in output if isinstance(output, list) else ():
        if not isinstance(item, dict):
            continue
        if isinstance(item.get("arguments"), str):
            parts.append(item["arguments"])
        for part in item.get("content") or () if isinstance(item.get("content"), list) else ():
            if isinstance(part, dict) and isinstance(part.get("text"), str):
                parts.append(part["text"])
    return "".join(parts)


def reseal(doc: dict[str, Any], ids: ResponseIds, channel_id: int, user_id: int) -> dict[str, Any]:
    """The upstream response object with the gateway's id in place of upstream's."""
    upstream = doc.get("id")
    if isinstance(upstream, str) and upstream:
        doc["id"] = ids.seal(ResponseRef(channel_id, user_id, upstream))
    previous = doc.get("previous_response_id")
    if isinstance(previous, str) and previous:
        doc["previous_response_id"] = ids.seal(ResponseRef(channel_id, user_id, previous))
    return doc


class PassthroughStream:
    """Relays upstream Responses events: the response id resealed in the events that carry the
    response, text and usage read out for billing (and QUOTA_STRICT's meter)."""

    def __init__(self, ids: ResponseIds, channel_id: int, user_id: int, key: str = "") -> None:
        self.usage: Usage | None = None
        self.text_parts: list[str] = []
        self.saw_done = False  # set at the terminal event: no `[DONE]` follows a Responses stream
        self._ids, self._channel_id, self._user_id = ids, channel_id, user_id
        self._key = key  # an error event may echo it (shared.redact)

    def feed(self, line: bytes) -> Iterable[bytes]:
        payload = sse_data(line)
        if not payload or payload.startswith(DONE):
            return ()  # `event:` lines are rebuilt from each event's type (shared.relay.inbound.responses.framing)
        try:
            event = orjson.loads(payload)
        except orjson.JSONDecodeError:
            return ()
        if not isinstance(event, dict):
            return ()
        kind = event.get("type")
        if kind in ("response.output_text.delta", "response.function_call_arguments.delta") and isinstance(event.get("delta"), str):
            self.text_parts.append(event["delta"])
            return (payload,)
        if kind == "error":
            return (orjson.dumps(redact_error(event, self._key)),)
        response = event.get("response")
        if isinstance(response, dict):
            if isinstance(response.get("error"), dict):
                response["error"] = redact_error(response["error"], self._key)
            reseal(response, self._ids, self._channel_id, self._user_id)
            captured = usage_of(response.get("usage"))
            if captured is not None:
                self.usage = captured
            if isinstance(kind, str) and kind.encode() in _TERMINAL:
                self.saw_done = True
            return (orjson.dumps(event),)
        return (payload,)

    def finish(self) -> Iterable[bytes]:
        return ()


def _int(value: Any) -> int:
    return value if isinstance(value, int) and not isinstance(value, bool) else 0
