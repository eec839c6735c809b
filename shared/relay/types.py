"""The data that crosses the seam between the relay engine and a provider adaptor.

The engine owns all I/O (reading the client, the pooled upstream call, writing the client); an
adaptor is pure conversion: it builds the upstream request, converts a whole response, or converts
a stream line by line. That keeps adaptors testable without a network and the hot path in one place.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any, Protocol


@dataclass
class Usage:
    prompt_tokens: int = 0
    completion_tokens: int = 0
    total_tokens: int = 0
    # Prompt tokens written to / read from a provider's prompt cache (Anthropic reports them);
    # part of prompt_tokens, priced with their own ratios (shared.billing.pricing.prompt_weight).
    cache_write_tokens: int = 0
    cache_read_tokens: int = 0

    def as_dict(self) -> dict[str, int]:
        return {
            "prompt_tokens": self.prompt_tokens,
            "completion_tokens": self.completion_tokens,
            "total_tokens": self.total_tokens,
        }


@dataclass
class RelayError(Exception):
    """An OpenAI-style error: `{"error": {"message", "type", "param", "code"}}` with an HTTP status."""

    status: int
    message: str
    type: str = "one_api_error"
    param: str = ""
    code: Any = ""
    short: bool = False  # gateway auth/distribution errors carry only message and type
    request_id_suffix: bool = True  # upstream errors passed through keep their own message
    headers: tuple[tuple[bytes, bytes], ...] = ()  # extra response headers (a 429's x-ratelimit-*)

    def body(self, request_id: str = "") -> dict[str, Any]:
        text = self.message
        if request_id and self.request_id_suffix:
            text = f"{text} (request id: {request_id})"
        if self.short:
            return {"error": {"message": text, "type": self.type}}
        return {"error": {"message": text, "type": self.type, "param": self.param, "code": self.code}}


@dataclass(frozen=True)
class RelayMeta:
    """What an adaptor may know about the request it converts."""

    mode: int  # shared.relay.modes
    channel_type: int
    channel_id: int
    base_url: str  # the channel's base_url, or the type's default when empty
    api_key: str  # the channel key
    config: Mapping[str, str]  # channel config JSON, with the `other` fallbacks of docs/one-api-compat.md §3.3 applied
    origin_model: str
    actual_model: str  # after the channel's model mapping
    is_stream: bool
    request_path: str  # the client's path, percent-encoded, without its query string, e.g. /v1/chat/completions
    prompt_tokens: int = 0  # the engine's estimate, used when upstream reports no usage
    client_headers: Mapping[str, str] = field(default_factory=dict)  # lower-case names
    gemini_version: str = "v1"
    gemini_safety_setting: str = "BLOCK_NONE"


@dataclass
class UpstreamRequest:
    method: str
    url: str
    headers: dict[str, str]
    body: bytes | None  # None: send the client's original bytes unchanged (pass-through)


@dataclass
class ConvertedResponse:
    """A whole (non-stream) upstream answer converted for the client."""

    status: int
    body: bytes
    content_type: str = "application/json"
    usage: Usage | None = None
    # Text of the reply, for counting completion tokens when usage is None or zero.
    text: str = ""


class StreamConverter(Protocol):
    """Turns upstream stream lines into client SSE payloads, accumulating text and usage."""

    # Read-only to the engine: a converter may compute them (shared.relay.inbound wraps another).
    @property
    def usage(self) -> Usage | None: ...

    @property
    def text_parts(self) -> list[str]: ...

    @property
    def saw_done(self) -> bool: ...

    def feed(self, line: bytes) -> Iterable[bytes]:
        """One upstream line without its newline -> zero or more payloads to send as `data: <payload>`
        (the payload `[DONE]` included)."""
        ...

    def finish(self) -> Iterable[bytes]:
        """Payloads still owed when upstream ends (never `[DONE]`: the engine appends it)."""
        ...


class Adaptor(Protocol):
    """One provider. Implementations live in shared/relay/adaptors/<provider>/.

    Optional members the engine looks for: `prepare(body, client)` (inline image URLs first),
    `upstream_error(status, body) -> RelayError` (the provider's own error format; else One API's
    generic reading) and `json_stream = True` (a stream request is answered with one JSON document,
    handed to the stream converter instead of being read as an error: DeepL)."""

    name: str

    def build_request(self, meta: RelayMeta, body: dict[str, Any] | None, raw: bytes) -> UpstreamRequest:
        """URL, headers and body for the upstream call. `body` is the parsed client JSON after the
        engine applied model mapping and the system prompt (None for multipart/audio); `raw` is the
        client's original bytes. Raise RelayError(400, …, code="invalid_api_type" or similar) for a
        mode the provider does not serve."""
        ...

    def convert_response(self, meta: RelayMeta, status: int, headers: Mapping[str, str], body: bytes) -> ConvertedResponse:
        """A complete upstream answer with status 200/201 -> the client's answer and usage.
        Raise RelayError for an error carried inside a 200 body."""
        ...

    def stream_converter(self, meta: RelayMeta) -> StreamConverter: ...
