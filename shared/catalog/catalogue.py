"""The static model catalogue of /v1/models and GET /api/channel/models, and the per-type model
lists of /api/models (docs/one-api-compat.md §4.5, §5.11). Built once, immutable; orjson serialises the
frozen dataclasses below to exactly One API's JSON shape."""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from dataclasses import dataclass
from functools import cache
from types import MappingProxyType
from typing import Any

from shared.relay.adaptors import registry

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
            "id": self.id,
            "object": self.object,
            "created": self.created,
            "owned_by": self.owned_by,
            "permission": permission,
            "root": self.root,
            "parent": self.parent,
        }


def catalogue_model(model_id: str, owned_by: str) -> OpenAIModel:
    return OpenAIModel(model_id, "model", CREATED, owned_by, _PERMISSIONS, model_id)


def custom_model(model_id: str) -> OpenAIModel:
    """How /v1/models shows an available model that is not in the catalogue."""
    return OpenAIModel(model_id, "model", CREATED, "custom", None, model_id)


def channel_models(type_id: int) -> tuple[str, ...] | None:
    """The static model list One API offers for a channel type (None for Proxy); an unknown type
    offers OpenAI's, since it relays with the OpenAI adaptor."""
    return registry.relay_spec(type_id).models


@cache
def models_by_channel_type() -> Mapping[str, tuple[str, ...] | None]:
    """`/api/models` data: "1".."51" -> that type's model list (Proxy -> None)."""
    return MappingProxyType({str(i): channel_models(i) for i in range(1, registry.DUMMY)})


@cache
def model_catalogue() -> tuple[OpenAIModel, ...]:
    """Every catalogue entry in One API's order (the registry's), duplicates kept."""
    return tuple(catalogue_model(model, spec.owner) for spec in registry.SPECS if spec.catalogued for model in spec.models or ())


@cache
def _lookup_table() -> Mapping[str, OpenAIModel]:
    return MappingProxyType({entry.id: entry for entry in model_catalogue()})  # last duplicate wins


def catalogue_lookup(model: str) -> OpenAIModel | None:
    """`/v1/models/:model`: the catalogue entry of that id (the last duplicate), or None."""
    return _lookup_table().get(model)
