"""The provider registry: every channel type id resolves here to the `ChannelSpec` its folder declares.

Adding a provider = a folder `shared/relay/adaptors/<name>/` whose `spec.py` exports `SPECS`, and
its name in `PROVIDERS` below. The order of `PROVIDERS` is the order of One API's static model
catalogue (/v1/models) for the catalogued ones, and the order of the console's type list.
"""

from __future__ import annotations

import importlib
from collections.abc import Mapping
from types import MappingProxyType

from shared.relay.adaptors.spec import ChannelSpec
from shared.relay.types import Adaptor

PROVIDERS = (
    # catalogued, in One API's catalogue order
    "openai",
    "anthropic",
    "palm",
    "baidu",
    "zhipu",
    "ali",
    "xunfei",
    "tencent",
    "gemini",
    "ollama",
    "aws",
    "coze",
    "cohere",
    "cloudflare",
    "deepl",
    "vertexai",
    "replicate",
    "ai360",
    "moonshot",
    "baichuan",
    "minimax",
    "doubao",
    "mistral",
    "groq",
    "lingyiwanwu",
    "stepfun",
    "deepseek",
    "togetherai",
    "novita",
    "siliconflow",
    "xai",
    "baiduv2",
    "xunfeiv2",
    # not in the catalogue
    "azure",
    "openaicompatible",
    "geminiopenai",
    "openrouter",
    "alibailian",
    "fastgpt",
    "aiproxylibrary",
    "proxy",
)

UNKNOWN = 0  # One API relays a type it does not know with the OpenAI adaptor: type 0's spec


def _load() -> tuple[ChannelSpec, ...]:
    specs: list[ChannelSpec] = []
    seen: dict[int, str] = {}
    for name in PROVIDERS:
        module = importlib.import_module(f"shared.relay.adaptors.{name}.spec")
        for spec in module.SPECS:
            if not isinstance(spec, ChannelSpec):
                raise TypeError(f"{name}/spec.py: SPECS holds {spec!r}, not a ChannelSpec")
            if spec.id in seen:
                raise ValueError(f"channel type {spec.id} is declared by both {seen[spec.id]} and {name}")
            seen[spec.id] = name
            specs.append(spec)
    return tuple(specs)


SPECS: tuple[ChannelSpec, ...] = _load()
BY_ID: Mapping[int, ChannelSpec] = MappingProxyType({spec.id: spec for spec in SPECS})
# One past the largest id (One API's `Dummy`): valid ids are 0 .. DUMMY - 1.
DUMMY = max(BY_ID) + 1
# API type -> the adaptor of its first relayed spec (the old per-API-type lookup).
_BY_API_TYPE: Mapping[int, Adaptor] = MappingProxyType(
    {spec.api_type: spec.adaptor for spec in reversed(SPECS) if spec.adaptor is not None}
)


def spec_for(type_id: int) -> ChannelSpec | None:
    """The spec of a channel type id, or None for an id One API does not define."""
    return BY_ID.get(type_id)


def relay_spec(type_id: int) -> ChannelSpec:
    """The spec a channel of this type relays with (an unknown id relays as OpenAI, as in One API)."""
    return BY_ID.get(type_id) or BY_ID[UNKNOWN]


def adaptor_for(type_id: int) -> Adaptor | None:
    """The adaptor relaying this channel type, or None when the type is not relayed yet."""
    return relay_spec(type_id).adaptor


def adaptor_for_api_type(api_type: int) -> Adaptor | None:
    return _BY_API_TYPE.get(api_type)


def channel_base_url(type_id: int, own: str | None) -> str:
    """The base URL a channel calls: its own or its type's default, without a trailing slash unless
    the type keeps the URL as typed (OpenAI-compatible servers)."""
    spec = relay_spec(type_id)
    if spec.keep_trailing_slash:
        return own or ""
    return (own or spec_default_base_url(type_id)).rstrip("/")


def spec_default_base_url(type_id: int) -> str:
    spec = BY_ID.get(type_id)
    return spec.base_url if spec else ""


def other_fallback(type_id: int) -> str:
    """The config key that reads the legacy `other` column when the config lacks it ("" = none)."""
    spec = BY_ID.get(type_id)
    return spec.other_fallback if spec else ""


def console_types() -> list[dict[str, object]]:
    """GET /api/channel/types: every selectable type (not 0) with its console fields, registry order."""
    return [spec.console_dict() for spec in SPECS if spec.id != UNKNOWN]
