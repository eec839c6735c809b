"""Provider adaptors: one folder per provider, each declaring its channel types in `spec.py`
(shared/relay/adaptors/registry.py lists the folders).

The engine calls, per attempt:
    adaptor = adaptor_for(channel_type)               # None -> "channel type not supported yet"
    if hasattr(adaptor, "prepare"): await adaptor.prepare(body, user_content_client)  # images -> data: URLs
    req = adaptor.build_request(meta, body, raw)      # may raise RelayError
    non-2xx -> adaptor.upstream_error(status, body) if it has one, else upstream_error(status, body); stream -> adaptor.stream_converter(meta).feed(line)
    otherwise -> adaptor.convert_response(meta, status, headers, body)
"""

from __future__ import annotations

from shared.relay.adaptors.anthropic.adaptor import AnthropicAdaptor
from shared.relay.adaptors.errors import should_disable_channel, upstream_error
from shared.relay.adaptors.gemini.adaptor import GeminiAdaptor
from shared.relay.adaptors.images import ImageFetcher, has_remote_images, inline_images
from shared.relay.adaptors.openai.adaptor import OpenAIAdaptor
from shared.relay.adaptors.registry import adaptor_for, adaptor_for_api_type

__all__ = [
    "AnthropicAdaptor",
    "GeminiAdaptor",
    "ImageFetcher",
    "OpenAIAdaptor",
    "adaptor_for",
    "adaptor_for_api_type",
    "has_remote_images",
    "inline_images",
    "should_disable_channel",
    "upstream_error",
]
