"""The static model catalogue of /v1/models and GET /api/channel/models, and the per-type model
lists of /api/models (reference §4.5, §5.11). Built once, immutable; orjson serialises the
frozen dataclasses below to exactly One API's JSON shape."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from functools import cache
from types import MappingProxyType
from typing import Any, Mapping

from shared.catalog import compatible_lists as compat
from shared.catalog import model_lists as native
from shared.catalog import channel_types as ct
from shared.catalog.openrouter_models import OPENROUTER

CREATED = 1626777600
PERMISSION_ID = "modelperm-LwHkVFn8AcMItP432fKKDIKJ"


@dataclass(frozen=True)
class ModelPermission:
    id: str = PERMISSION_ID
    object: str = "model_permission"
    created: int = CREATED
    allow_create_engine: bool = True
    allow_sampling: bool = True
    allow_logprobs: bool = True
    allow_search_indices: bool = False
    allow_view: bool = True
    allow_fine_tuning: bool = False
    organization: str = "*"
    group: None = None
    is_blocking: bool = False


_PERMISSIONS = (ModelPermission(),)


@dataclass(frozen=True)
class OpenAIModel:
    """One element of a model list, fields in One API's JSON order."""

    id: str
    object: str
    created: int
    owned_by: str
    permission: tuple[ModelPermission, ...] | None
    root: str
    parent: None = None

    def as_dict(self) -> dict[str, Any]:
        """A fresh plain-dict copy (for serialisers that do not know dataclasses)."""
        permission = None if self.permission is None else [dataclasses.asdict(p) for p in self.permission]
        return {
            "id": self.id, "object": self.object, "created": self.created, "owned_by": self.owned_by,
            "permission": permission, "root": self.root, "parent": self.parent,
        }


def catalogue_model(model_id: str, owned_by: str) -> OpenAIModel:
    return OpenAIModel(model_id, "model", CREATED, owned_by, _PERMISSIONS, model_id)


def custom_model(model_id: str) -> OpenAIModel:
    """How /v1/models shows an available model that is not in the catalogue."""
    return OpenAIModel(model_id, "model", CREATED, "custom", None, model_id)


# Native adaptors in API-type order 0..18 (AIProxyLibrary skipped), with their channel names.
_NATIVE: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("openai", native.OPENAI),
    ("anthropic", native.ANTHROPIC),
    ("google palm", native.PALM),
    ("baidu", native.BAIDU),
    ("zhipu", native.ZHIPU),
    ("ali", native.ALI),
    ("xunfei", native.XUNFEI),
    ("tencent", native.TENCENT),
    ("google gemini", native.GEMINI),
    ("ollama", native.OLLAMA),
    ("aws", native.AWS),
    ("coze", native.COZE),
    ("Cohere", native.COHERE),
    ("cloudflare", native.CLOUDFLARE),
    ("deepl", native.DEEPL),
    ("vertexai", native.VERTEXAI),
    ("proxy", ()),
    ("replicate", native.REPLICATE),
)

# OpenAI-protocol channel types with their own list: type -> (owned_by, models).
_COMPATIBLE: Mapping[int, tuple[str, tuple[str, ...]]] = MappingProxyType({
    19: ("360", compat.AI360),
    25: ("moonshot", compat.MOONSHOT),
    26: ("baichuan", compat.BAICHUAN),
    27: ("minimax", compat.MINIMAX),
    40: ("doubao", compat.DOUBAO),
    28: ("mistralai", compat.MISTRAL),
    29: ("groq", compat.GROQ),
    31: ("lingyiwanwu", compat.LINGYIWANWU),
    32: ("stepfun", compat.STEPFUN),
    36: ("deepseek", compat.DEEPSEEK),
    39: ("together.ai", compat.TOGETHERAI),
    41: ("novita", compat.NOVITA),
    44: ("siliconflow", compat.SILICONFLOW),
    45: ("xai", compat.XAI),
    47: ("baiduv2", compat.BAIDUV2),
    48: ("xunfeiv2", compat.XUNFEIV2),
    # Listed for /api/models but left out of the catalogue, as in One API.
    ct.OPENROUTER: ("openrouter", OPENROUTER),
    ct.ALI_BAILIAN: ("alibailian", compat.ALIBAILIAN),
    ct.GEMINI_OPENAI_COMPATIBLE: ("geminiv2", compat.GEMINI_OPENAI),
})

# The compatible types that enter the catalogue, in One API's order (Azure is skipped there).
_CATALOGUE_COMPATIBLE = (19, 25, 26, 27, 40, 28, 29, 31, 32, 36, 39, 41, 44, 45, 47, 48)

_NATIVE_BY_API_TYPE: Mapping[int, tuple[str, ...] | None] = MappingProxyType({
    ct.API_ANTHROPIC: native.ANTHROPIC,
    ct.API_PALM: native.PALM,
    ct.API_BAIDU: native.BAIDU,
    ct.API_ZHIPU: native.ZHIPU,
    ct.API_ALI: native.ALI,
    ct.API_XUNFEI: native.XUNFEI,
    ct.API_AIPROXY_LIBRARY: native.AIPROXY_LIBRARY,
    ct.API_TENCENT: native.TENCENT,
    ct.API_GEMINI: native.GEMINI,
    ct.API_OLLAMA: native.OLLAMA,
    ct.API_AWS_CLAUDE: native.AWS,
    ct.API_COZE: native.COZE,
    ct.API_COHERE: native.COHERE,
    ct.API_CLOUDFLARE: native.CLOUDFLARE,
    ct.API_DEEPL: native.DEEPL,
    ct.API_VERTEXAI: native.VERTEXAI,
    ct.API_PROXY: None,
    ct.API_REPLICATE: native.REPLICATE,
})


def channel_models(type_id: int) -> tuple[str, ...] | None:
    """The static model list One API offers for a channel type (None for Proxy)."""
    api = ct.api_type(type_id)
    if api == ct.API_OPENAI:
        entry = _COMPATIBLE.get(type_id)
        return entry[1] if entry else native.OPENAI
    return _NATIVE_BY_API_TYPE.get(api, native.OPENAI)


@cache
def models_by_channel_type() -> Mapping[str, tuple[str, ...] | None]:
    """`/api/models` data: "1".."51" -> that type's model list (Proxy -> None)."""
    return MappingProxyType({str(i): channel_models(i) for i in range(1, ct.DUMMY)})


@cache
def model_catalogue() -> tuple[OpenAIModel, ...]:
    """Every catalogue entry in One API's order, duplicates kept."""
    entries = [catalogue_model(m, owner) for owner, models in _NATIVE for m in models]
    for type_id in _CATALOGUE_COMPATIBLE:
        owner, models = _COMPATIBLE[type_id]
        entries.extend(catalogue_model(m, owner) for m in models)
    return tuple(entries)


@cache
def _lookup_table() -> Mapping[str, OpenAIModel]:
    return MappingProxyType({entry.id: entry for entry in model_catalogue()})  # last duplicate wins


def catalogue_lookup(model: str) -> OpenAIModel | None:
    """`/v1/models/:model`: the catalogue entry of that id (the last duplicate), or None."""
    return _lookup_table().get(model)
