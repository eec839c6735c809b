"""Anthropic Messages in (POST /v1/messages, /v1/messages/count_tokens): Claude Code and the SDKs."""

from __future__ import annotations

from typing import Any

from shared.relay.adaptors.spec import API_ANTHROPIC
from shared.relay.inbound import Converting
from shared.relay.inbound.anthropic import answer, errors, request
from shared.relay.inbound.anthropic.native import NativeAdaptor, native_body
from shared.relay.inbound.anthropic.stream import MessagesStream
from shared.relay.types import Adaptor, ConvertedResponse, RelayError, RelayMeta, StreamConverter
from shared.snapshot import ChannelEntry


class AnthropicMessages:
    """The ClientFormat (shared.relay.inbound) of the Messages API."""

    name = "anthropic"
    native_api_type: int | None = API_ANTHROPIC
    native_adaptor: Adaptor = NativeAdaptor()

    def to_chat(self, body: Any) -> dict[str, Any]:
        return request.to_chat(body)

    def native_request(self, original: Any, chat: dict[str, Any], actual_model: str, system_prompt: str) -> dict[str, Any]:
        return native_body(original, chat, actual_model, system_prompt)

    def adaptor_for(self, channel: ChannelEntry, adaptor: Adaptor) -> Adaptor:
        return Converting(adaptor, self)

    def answer(self, converted: ConvertedResponse, meta: RelayMeta) -> ConvertedResponse:
        return answer.convert(converted, meta.origin_model, meta.prompt_tokens)

    def stream(self, inner: StreamConverter, meta: RelayMeta) -> StreamConverter:
        return MessagesStream(inner, meta.origin_model, meta.prompt_tokens)

    def error_body(self, error: RelayError, request_id: str) -> dict[str, Any]:
        return errors.error_body(error, request_id)


MESSAGES = AnthropicMessages()
