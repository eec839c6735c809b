"""The channel-type table (docs/one-api-compat.md §3.8) as the catalogue and the API read it: id, One API's
constant name, label, default base URL and API type, derived from the provider registry
(shared/relay/adaptors/registry.py), where each provider folder declares its types."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from types import MappingProxyType

from shared.relay.adaptors import registry
from shared.relay.adaptors.spec import (  # noqa: F401  (re-exported: the API type ids)
    API_AIPROXY_LIBRARY,
    API_ALI,
    API_ANTHROPIC,
    API_AWS_CLAUDE,
    API_BAIDU,
    API_CLOUDFLARE,
    API_COHERE,
    API_COZE,
    API_DEEPL,
    API_DUMMY,
    API_GEMINI,
    API_OLLAMA,
    API_OPENAI,
    API_PALM,
    API_PROXY,
    API_REPLICATE,
    API_TENCENT,
    API_VERTEXAI,
    API_XUNFEI,
    API_ZHIPU,
)


@dataclass(frozen=True)
class ChannelType:
    id: int
    name: str  # One API's Go constant name
    label: str  # One API's console label (Chinese)
    base_url: str  # default upstream base URL ("" = the channel must set one, or none applies)
    api_type: int


CHANNEL_TYPES: Mapping[int, ChannelType] = MappingProxyType(
    {
        spec.id: ChannelType(spec.id, spec.name, "" if spec.id == registry.UNKNOWN else spec.label.zh, spec.base_url, spec.api_type)
        for spec in sorted(registry.SPECS, key=lambda s: s.id)
    }
)
DUMMY = registry.DUMMY


def channel_type(type_id: int) -> ChannelType | None:
    """The row of a channel type id, or None for an id One API does not define."""
    return CHANNEL_TYPES.get(type_id)


def default_base_url(type_id: int) -> str:
    """The base URL a channel of this type uses when its own `base_url` is empty ("" if none)."""
    return registry.spec_default_base_url(type_id)


def api_type(type_id: int) -> int:
    """The API type serving this channel type; unknown types use OpenAI's, as One API does."""
    return registry.relay_spec(type_id).api_type
