"""Inbound API formats other than OpenAI chat: the seam between a client format and the relay.

A format (one package here, e.g. `anthropic/`) gives the relay a `ClientFormat` and nothing else:

- `to_chat(body)`: the client's request as an OpenAI chat request. Validation, token counting,
  rate limits, the reservation, channel choice, failover, billing and the log row all run on it,
  exactly as for /v1/chat/completions (shared.relay.text), so a conversation costs the same
  whichever door it came in by.
- `native_api_type`: channels of that API type (shared.relay.adaptors.spec) speak the
  client's format; they get `native_request(...)` through `native_adaptor`, answer passed through.
- `adaptor_for(channel, adaptor)`: the adaptor for every other channel; `Converting(adaptor, format)`
  for a format converted here, or the format's own pass-through when it recognises the channel
  itself (Gemini: `native_api_type` None, its `adaptor_for` decides).
- `answer(...)` / `stream(...)`: every other channel's answer, produced by its own adaptor as chat
  completions, turned into the client's format. A stream converter whose `framed` is true yields
  whole SSE frames (the relay adds no `data: ` prefix and no `[DONE]`), with `interrupt(chunk)`
  for an answer the gateway ends early (QUOTA_STRICT) and `abort(message)` for an upstream that
  breaks off mid-answer.
- `error_body(error, request_id)`: any error, before or instead of an answer, in the client's shape.

Where the relay looks: the route (shared.relay.app `INBOUND`, `RelayApp._inbound`) authenticates,
builds the Call with `inbound` = the format, `inbound_body` = the client's request and `parsed` =
`to_chat(body)`, and runs `text.relay_text`; `text._attempt` picks `native_adaptor` for a channel
of `native_api_type`, else `Converting(channel's adaptor, format)`; `text._stream` writes `framed`
payloads as they are; errors go out through `error_body`. A new format adds a package here and a
row to `INBOUND` (its paths), nothing else.

The three formats here: `anthropic/` (Messages) uses the seam exactly as above; `gemini/` has its own
route (`route.match` in RelayApp) and converts the chat pipeline's output in a `send` wrapper
(`reply.GeminiReply`), recognising Gemini channels in its `adaptor_for`; `responses/` (OpenAI's
Responses API) runs `relay_text` with its own per-channel attempt and a framing `send` that turns
chat output into Responses events, passing OpenAI and Azure channels through. Folding the last two
into the seam's converters is possible follow-up work.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any, Protocol

from shared.relay.types import Adaptor, ConvertedResponse, RelayError, RelayMeta, StreamConverter, UpstreamRequest


class ClientFormat(Protocol):
    name: str
    native_api_type: int | None

    def adaptor_for(self, channel: Any, adaptor: Adaptor) -> Adaptor: ...

    def to_chat(self, body: Any) -> dict[str, Any]: ...

    def native_request(self, original: Any, chat: dict[str, Any], actual_model: str, system_prompt: str) -> dict[str, Any]: ...

    native_adaptor: Adaptor

    def answer(self, converted: ConvertedResponse, meta: RelayMeta) -> ConvertedResponse: ...

    def stream(self, inner: StreamConverter, meta: RelayMeta) -> StreamConverter: ...

    def error_body(self, error: RelayError, request_id: str) -> dict[str, Any]: ...


class Converting:
    """A channel's adaptor with its answers turned into the client's format."""

    def __init__(self, inner: Adaptor, client: ClientFormat) -> None:
        self.inner, self.client = inner, client
        self.name = f"{inner.name}->{client.name}"
        prepare = getattr(inner, "prepare", None)
        if prepare is not None:
            self.prepare = prepare  # e.g. image URLs inlined for providers that need data

    def build_request(self, meta: RelayMeta, body: dict[str, Any] | None, raw: bytes) -> UpstreamRequest:
        return self.inner.build_request(meta, body, raw)

    def convert_response(self, meta: RelayMeta, status: int, headers: Mapping[str, str], body: bytes) -> ConvertedResponse:
        return self.client.answer(self.inner.convert_response(meta, status, headers, body), meta)

    def stream_converter(self, meta: RelayMeta) -> StreamConverter:
        return self.client.stream(self.inner.stream_converter(meta), meta)


def frames(converter: Any, payloads: Iterable[bytes]) -> list[bytes]:
    """Payloads as bytes to write: whole frames already for a `framed` converter, else `data:` lines."""
    if getattr(converter, "framed", False):
        return list(payloads)
    return [b"data: " + payload + b"\n\n" for payload in payloads]
