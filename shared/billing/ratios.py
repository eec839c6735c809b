"""Model, completion and group ratios (docs/one-api-compat.md §6.1).

The built-in tables are One API's defaults; the `ModelRatio`, `CompletionRatio` and `GroupRatio`
options overlay them. A built-in model can be overridden but never removed. `Ratios` is an
immutable snapshot built once per option change; its lookups are plain dict hits.
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any

from shared.billing.ratio_table import COMPLETION_RATIO_TABLE, MODEL_RATIO_TABLE

USD = 500  # quota per USD at a ratio of 1 per token: a ratio of 1 = $0.002 per 1K tokens
MILLI_USD = 0.5  # 1.0 / 1000 * USD
RMB = 71  # Go: USD / USD2RMB with untyped integer constants (500 / 7 truncated)
FALLBACK_MODEL_RATIO = 30.0

DEFAULT_MODEL_RATIO: dict[str, float] = dict(MODEL_RATIO_TABLE)
DEFAULT_COMPLETION_RATIO: dict[str, float] = dict(COMPLETION_RATIO_TABLE)
DEFAULT_GROUP_RATIO: dict[str, float] = {"default": 1.0, "vip": 1.0, "svip": 1.0}

# Exact-name completion ratios, checked after the prefix rules (§6.1).
_EXACT_COMPLETION: Mapping[str, float] = MappingProxyType(
    {
        "llama2-70b-4096": 1.25,  # 0.8 / 0.64
        "llama3-8b-8192": 2.0,
        "llama3-70b-8192": 1.3389830508474576,  # 0.79 / 0.59
        "command": 2.0,
        "command-light": 2.0,
        "command-nightly": 2.0,
        "command-light-nightly": 2.0,
        "command-r": 3.0,
        "command-r-plus": 5.0,
        "grok-beta": 3.0,
        # Replicate
        "ibm-granite/granite-20b-code-instruct-8k": 5.0,
        "ibm-granite/granite-3.0-2b-instruct": 8.333333333333334,
        "ibm-granite/granite-3.0-8b-instruct": 5.0,
        "ibm-granite/granite-8b-code-instruct-128k": 5.0,
        "meta/llama-2-13b": 5.0,
        "meta/llama-2-13b-chat": 5.0,
        "meta/llama-2-7b": 5.0,
        "meta/llama-2-7b-chat": 5.0,
        "meta/meta-llama-3-8b": 5.0,
        "meta/meta-llama-3-8b-instruct": 5.0,
        "meta/llama-2-70b": 4.230769230769231,  # 2.750 / 0.650
        "meta/llama-2-70b-chat": 4.230769230769231,
        "meta/meta-llama-3-70b": 4.230769230769231,
        "meta/meta-llama-3-70b-instruct": 4.230769230769231,
        "meta/meta-llama-3.1-405b-instruct": 1.0,
        "mistralai/mistral-7b-instruct-v0.2": 5.0,
        "mistralai/mistral-7b-v0.1": 5.0,
        "mistralai/mixtral-8x7b-instruct-v0.1": 3.3333333333333335,  # 1.000 / 0.300
    }
)

_MEMO_LIMIT = 4096  # bounded memo: model names come from requests


def completion_rule(name: str) -> float:
    """The hard-coded completion ratio of a model that no map lists (§6.1, in One API's order)."""
    if name.startswith("gpt-3.5"):
        if name == "gpt-3.5-turbo" or name.endswith("0125"):
            return 3.0
        if name.endswith("1106"):
            return 2.0
        return 4.0 / 3.0
    if name.startswith("gpt-4"):
        if name.startswith("gpt-4o"):
            return 3.0 if name == "gpt-4o-2024-05-13" else 4.0
        if name.startswith("gpt-4-turbo") or name.endswith("preview"):
            return 3.0
        return 2.0
    if name.startswith("o1"):
        return 4.0
    if name == "chatgpt-4o-latest":
        return 3.0
    if name.startswith("claude-3"):
        return 5.0
    if name.startswith("claude-"):
        return 3.0
    if name.startswith(("mistral-", "gemini-")):
        return 3.0
    if name.startswith("deepseek-"):
        return 2.0
    return _EXACT_COMPLETION.get(name, 1.0)


def parse_ratio_json(value: str | Mapping[str, Any] | None) -> dict[str, float]:
    """A ratio option (JSON object of numbers, or an already decoded mapping) -> dict.

    Raises ValueError when it is not an object of numbers. `null` and "" give an empty map.
    """
    if value is None:
        return {}
    if isinstance(value, str):
        if value.strip() == "":
            return {}
        try:
            value = json.loads(value)
        except json.JSONDecodeError as exc:
            raise ValueError(f"invalid ratio JSON: {exc}") from exc
        if value is None:
            return {}
    if not isinstance(value, Mapping):
        raise ValueError("ratio JSON must be an object")
    out: dict[str, float] = {}
    for key, ratio in value.items():
        if isinstance(ratio, bool) or not isinstance(ratio, (int, float)) or not math.isfinite(ratio):
            raise ValueError(f"ratio of {key!r} must be a number")
        out[str(key)] = float(ratio)
    return out


@dataclass(frozen=True)
class Ratios:
    """An immutable view of the three ratio options merged with the built-in defaults."""

    model: Mapping[str, float]  # option ModelRatio over DEFAULT_MODEL_RATIO
    completion: Mapping[str, float]  # option CompletionRatio over DEFAULT_COMPLETION_RATIO
    group: Mapping[str, float]  # option GroupRatio (no defaults merged: its keys are the groups)
    _memo: dict[tuple[str, int], float] = field(default_factory=dict, repr=False, compare=False)

    @classmethod
    def from_options(
        cls,
        model_json: str | Mapping[str, Any] | None = None,
        completion_json: str | Mapping[str, Any] | None = None,
        group_json: str | Mapping[str, Any] | None = None,
    ) -> Ratios:
        """Build from the option values; None means the option's default. Raises ValueError."""
        model = DEFAULT_MODEL_RATIO if model_json is None else parse_ratio_json(model_json)
        completion = DEFAULT_COMPLETION_RATIO if completion_json is None else parse_ratio_json(completion_json)
        group = DEFAULT_GROUP_RATIO if group_json is None else parse_ratio_json(group_json)
        # Merging once is equivalent to One API's option-then-default lookups for each key.
        return cls(
            model=MappingProxyType({**DEFAULT_MODEL_RATIO, **model}),
            completion=MappingProxyType({**DEFAULT_COMPLETION_RATIO, **completion}),
            group=MappingProxyType(dict(group)),
        )

    @classmethod
    def default(cls) -> Ratios:
        return cls.from_options()

    def model_ratio(self, name: str, channel_type: int = 0) -> float:
        """`name(channelType)` then `name` (option before built-in), else 30."""
        if name.endswith("-internet") and name.startswith(("qwen-", "command-")):
            name = name[: -len("-internet")]
        table = self.model
        ratio = table.get(f"{name}({channel_type})")
        if ratio is None:
            ratio = table.get(name, FALLBACK_MODEL_RATIO)
        return ratio

    def has_model_ratio(self, name: str, channel_type: int = 0) -> bool:
        """Whether a ratio is configured (the fallback 30 is not)."""
        if name.endswith("-internet") and name.startswith(("qwen-", "command-")):
            name = name[: -len("-internet")]
        return f"{name}({channel_type})" in self.model or name in self.model

    def completion_ratio(self, name: str, channel_type: int = 0) -> float:
        """Map lookups as for the model ratio (only `qwen-` loses `-internet`), then the rules."""
        key = (name, channel_type)
        hit = self._memo.get(key)
        if hit is not None:
            return hit
        base = name[: -len("-internet")] if name.startswith("qwen-") and name.endswith("-internet") else name
        table = self.completion
        ratio = table.get(f"{base}({channel_type})")
        if ratio is None:
            ratio = table.get(base)
        if ratio is None:
            ratio = completion_rule(base)
        if len(self._memo) < _MEMO_LIMIT:
            self._memo[key] = ratio
        return ratio

    def group_ratio(self, group: str) -> float:
        """GroupRatio[group], missing -> 1."""
        return self.group.get(group, 1.0)

    def groups(self) -> list[str]:
        """The group names (the keys of GroupRatio), sorted."""
        return sorted(self.group)
