"""What a provider folder declares: one `ChannelSpec` per channel type id it serves.

A spec is plain data (frozen dataclasses): the registry (shared/relay/adaptors/registry.py) collects
them, and the catalogue, the engine, the snapshot, the monitors and the console's type list
(GET /api/channel/types) read them from there. `adaptor=None` means the type is known (the
console offers it, its models are catalogued) but not relayed yet.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from shared.relay.types import Adaptor, RelayMeta

# API types (One API's relay/apitype): which of One API's adaptors a type maps to. Kept as One
# API numbers them, since the catalogue and /api/models follow that order.
(
    API_OPENAI,
    API_ANTHROPIC,
    API_PALM,
    API_BAIDU,
    API_ZHIPU,
    API_ALI,
    API_XUNFEI,
    API_AIPROXY_LIBRARY,
    API_TENCENT,
    API_GEMINI,
    API_OLLAMA,
    API_AWS_CLAUDE,
    API_COZE,
    API_COHERE,
    API_CLOUDFLARE,
    API_DEEPL,
    API_VERTEXAI,
    API_PROXY,
    API_REPLICATE,
    API_DUMMY,
) = range(20)


@dataclass(frozen=True)
class Text:
    """A console text in both of its languages."""

    en: str
    zh: str

    def as_dict(self) -> dict[str, str]:
        return {"en": self.en, "zh": self.zh}


@dataclass(frozen=True)
class ConfigField:
    """A type-specific field of the channel form: `other` (the legacy column) or `config.<key>`."""

    name: str
    label: Text
    hint: Text | None = None
    placeholder: str = ""
    default: str = ""  # stored when the field is left empty
    secret: bool = False
    multiline: bool = False

    def as_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "label": self.label.as_dict(),
            "hint": self.hint.as_dict() if self.hint else None,
            "placeholder": self.placeholder,
            "default": self.default,
            "secret": self.secret,
            "multiline": self.multiline,
        }


@dataclass(frozen=True)
class Route:
    """How an OpenAI-protocol upstream URL and auth header are built for one channel type.

    `paths`: relay mode -> path after the base URL; when given, other modes are refused (One API's
    "unsupported relay mode"). Without it the client's path is appended to the base URL.
    `url`: a function for rules that need the request (Azure deployments, Doubao bots).
    """

    paths: Mapping[int, str] | None = None
    url: Callable[[RelayMeta], str] | None = None
    drop_prefix: str = ""  # removed from the client's path (OpenAI-compatible types: "/v1")
    gateway_drop_prefix: str = ""  # removed when the base URL is a Cloudflare AI Gateway
    auth_header: str = "Authorization"
    auth_scheme: str = "Bearer "
    headers: Mapping[str, str] = field(default_factory=dict)  # sent on every request


DEFAULT_ROUTE = Route()

KEY_PLAIN = Text("The upstream API key", "上游服务的 API 密钥")


@dataclass(frozen=True)
class ChannelSpec:
    id: int  # the channel type id (docs/one-api-compat.md §3.8)
    name: str  # One API's Go constant name
    label: Text  # the console's label
    api_type: int
    adaptor: Adaptor | None  # None: "channel type N … is not supported yet"
    base_url: str = ""  # default upstream base URL; "" = none
    base_url_required: bool = False  # the channel must set its own base URL
    keep_trailing_slash: bool = False  # the channel's base URL is used as typed
    route: Route = DEFAULT_ROUTE
    key_format: Text = KEY_PLAIN  # the key field's hint in the console
    key_from_fields: tuple[str, ...] = ()  # config keys joined with "|" into the key when it is empty
    fields: tuple[ConfigField, ...] = ()
    other_fallback: str = ""  # the config key that falls back to the legacy `other` column
    models: tuple[str, ...] | None = ()  # /api/models' list for this type (None: none, as Proxy)
    models_hint: Text | None = None
    owner: str = ""  # `owned_by` of its catalogue entries
    catalogued: bool = False  # its models enter /v1/models' static catalogue
    balance: str = ""  # the balance reader (master/monitors/balance.py), "" = none
    balance_host: str = ""  # the fixed host One API asks for the balance ("" = the base URL)

    @property
    def relays(self) -> bool:
        return self.adaptor is not None

    def console_dict(self) -> dict[str, Any]:
        """The console's view: labels, URL defaults, key format and fields (never adaptor internals)."""
        return {
            "id": self.id,
            "name": self.name,
            "label": self.label.as_dict(),
            "base_url": self.base_url,
            "base_url_required": self.base_url_required,
            "key_format": self.key_format.as_dict(),
            "key_from_fields": list(self.key_from_fields),
            "fields": [f.as_dict() for f in self.fields],
            "models_hint": self.models_hint.as_dict() if self.models_hint else None,
            "relays": self.relays,
        }


# Texts several providers share.
KEY_COMPOSED = Text("Optional: built from the fields above when empty", "可留空：将由上面的字段组成")
API_VERSION = Text("API version", "API 版本")
REGION = Text("Region", "区域")
