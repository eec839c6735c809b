"""Model, completion and group ratios (docs/one-api-compat.md §6.1) and their Go-style option JSON (§4.12)."""

from __future__ import annotations

import json

import pytest

from shared import gojson
from shared.billing.ratios import (
    DEFAULT_COMPLETION_RATIO,
    DEFAULT_GROUP_RATIO,
    DEFAULT_MODEL_RATIO,
    Ratios,
    parse_ratio_json,
)

DEFAULTS = Ratios.default()


def test_builtin_table_values() -> None:
    assert len(DEFAULT_MODEL_RATIO) > 500
    expected = {
        "gpt-4o": 2.5,
        "gpt-4o-2024-08-06": 1.25,
        "gpt-4o-2024-11-20": 1.25,
        "gpt-4o-mini": 0.075,
        "gpt-3.5-turbo": 0.25,
        "gpt-4": 15,
        "gpt-4-turbo": 5,
        "o1": 7.5,
        "o1-mini": 1.5,
        "o3-mini": 1.5,
        "claude-3-5-sonnet-latest": 1.5,
        "claude-3-5-haiku-20241022": 0.5,
        "claude-3-opus-20240229": 7.5,
        "gemini-1.5-pro": 0.625,
        "gemini-1.5-flash": 0.0375,
        "gemini-2.0-flash": 0.075,
        "deepseek-chat": 0.07,
        "deepseek-reasoner": 0.275,
        "text-embedding-3-small": 0.01,
        "dall-e-2": 10,
        "dall-e-3": 20,
        "whisper-1": 15,
        "tts-1-hd": 15,
        "ERNIE-4.0-8K": 8.52,  # 0.120 * RMB with Go's integer RMB = 500 / 7 = 71
        "gemma-7b-it": 3.5e-05,  # 0.07 / 1000000 * USD
        "llama3-8b-8192(33)": 0.15,
        "meta/meta-llama-3.1-405b-instruct": 4750,
        "openrouter/auto": -500000,
    }
    assert {k: DEFAULT_MODEL_RATIO[k] for k in expected} == expected
    assert all(isinstance(v, float) for v in DEFAULT_MODEL_RATIO.values())


def test_model_ratio_lookup_order() -> None:
    plain = Ratios.from_options('{"llama3-8b-8192": 9}', None, None)
    assert plain.model_ratio("llama3-8b-8192", 33) == 0.15  # built-in name(33) beats option name
    assert plain.model_ratio("llama3-8b-8192", 1) == 9  # option name beats built-in name
    typed = Ratios.from_options('{"llama3-8b-8192(33)": 7, "gpt-4(14)": 3}', None, None)
    assert typed.model_ratio("llama3-8b-8192", 33) == 7  # option name(33) first
    assert typed.model_ratio("gpt-4", 14) == 3
    assert typed.model_ratio("gpt-4", 1) == 15
    assert typed.model_ratio("llama3-8b-8192", 0) == DEFAULT_MODEL_RATIO["llama3-8b-8192"]


def test_builtin_model_cannot_be_removed_by_the_option() -> None:
    ratios = Ratios.from_options('{"my-model": 2}', "{}", "{}")
    assert ratios.model_ratio("gpt-4") == 15
    assert ratios.model_ratio("my-model") == 2


def test_unknown_model_falls_back_to_30() -> None:
    assert DEFAULTS.model_ratio("no-such-model") == 30
    assert not DEFAULTS.has_model_ratio("no-such-model")
    assert DEFAULTS.has_model_ratio("llama3-8b-8192", 33)


def test_internet_suffix() -> None:
    assert DEFAULTS.model_ratio("qwen-turbo-internet") == DEFAULT_MODEL_RATIO["qwen-turbo"]
    assert DEFAULTS.model_ratio("command-r-internet") == DEFAULT_MODEL_RATIO["command-r"]
    assert DEFAULTS.model_ratio("gpt-4-internet") == 30
    # Completion ratio strips the suffix for qwen- only.
    assert DEFAULTS.completion_ratio("command-r-internet") == 1
    ratios = Ratios.from_options(None, '{"qwen-max": 6}', None)
    assert ratios.completion_ratio("qwen-max-internet") == 6


@pytest.mark.parametrize(
    ("model", "channel_type", "expected"),
    [
        ("gpt-3.5-turbo", 1, 3),
        ("gpt-3.5-turbo-0125", 1, 3),
        ("gpt-3.5-turbo-1106", 1, 2),
        ("gpt-3.5-turbo-16k", 1, 4 / 3),
        ("gpt-3.5-turbo-instruct", 1, 4 / 3),
        ("gpt-4o", 1, 4),
        ("gpt-4o-mini", 1, 4),
        ("gpt-4o-2024-05-13", 1, 3),
        ("gpt-4o-2024-08-06", 1, 4),
        ("gpt-4o-audio-preview", 1, 4),
        ("gpt-4-turbo", 1, 3),
        ("gpt-4-turbo-2024-04-09", 1, 3),
        ("gpt-4-1106-preview", 1, 3),
        ("gpt-4-vision-preview", 1, 3),
        ("gpt-4", 1, 2),
        ("gpt-4-32k", 1, 2),
        ("o1", 1, 4),
        ("o1-mini", 1, 4),
        ("o1-preview-2024-09-12", 1, 4),
        ("o3-mini", 1, 1),
        ("chatgpt-4o-latest", 1, 3),
        ("claude-3-5-sonnet-latest", 14, 5),
        ("claude-3-haiku-20240307", 14, 5),
        ("claude-2.1", 14, 3),
        ("claude-instant-1.2", 14, 3),
        ("mistral-large-latest", 20, 3),
        ("gemini-1.5-pro", 24, 3),
        ("gemini-2.0-flash", 24, 3),
        ("deepseek-chat", 36, 2),
        ("deepseek-coder", 36, 2),
        ("deepseek-reasoner", 36, 2.19 / 0.55),
        ("llama2-70b-4096", 29, 0.8 / 0.64),
        ("llama3-8b-8192", 29, 2),
        ("llama3-70b-8192", 29, 0.79 / 0.59),
        ("llama3-8b-8192", 33, 2),
        ("llama3-70b-8192", 33, 0.0035 / 0.00265),
        ("command", 34, 2),
        ("command-light", 34, 2),
        ("command-nightly", 34, 2),
        ("command-light-nightly", 34, 2),
        ("command-r", 34, 3),
        ("command-r-plus", 34, 5),
        ("grok-beta", 1, 3),
        ("ibm-granite/granite-20b-code-instruct-8k", 1, 5),
        ("ibm-granite/granite-3.0-2b-instruct", 1, 8.333333333333334),
        ("ibm-granite/granite-3.0-8b-instruct", 1, 5),
        ("ibm-granite/granite-8b-code-instruct-128k", 1, 5),
        ("meta/llama-2-7b-chat", 1, 5),
        ("meta/meta-llama-3-8b-instruct", 1, 5),
        ("meta/llama-2-70b", 1, 2.750 / 0.650),
        ("meta/meta-llama-3-70b-instruct", 1, 2.750 / 0.650),
        ("meta/meta-llama-3.1-405b-instruct", 1, 1),
        ("mistralai/mistral-7b-v0.1", 1, 5),
        ("mistralai/mistral-7b-instruct-v0.2", 1, 5),
        ("mistralai/mixtral-8x7b-instruct-v0.1", 1, 1.000 / 0.300),
        ("whisper-1", 1, 0),
        ("text-embedding-3-small", 1, 1),
        ("qwen-turbo", 17, 1),
        ("unknown-model", 1, 1),
    ],
)
def test_completion_ratio_rules(model: str, channel_type: int, expected: float) -> None:
    assert DEFAULTS.completion_ratio(model, channel_type) == pytest.approx(expected, rel=1e-15)
    assert DEFAULTS.completion_ratio(model, channel_type) == pytest.approx(expected, rel=1e-15)  # memoised


def test_completion_ratio_exact_go_constants() -> None:
    # Go folds 2.19 / 0.55 exactly before rounding; Python's float division is one ulp off.
    assert DEFAULTS.completion_ratio("deepseek-reasoner") == 3.981818181818182
    assert DEFAULTS.completion_ratio("llama3-70b-8192") == 1.3389830508474576


def test_completion_option_overrides_rules_and_defaults() -> None:
    ratios = Ratios.from_options(None, '{"gpt-4o": 9, "deepseek-chat": 1.5, "gpt-4(3)": 7}', None)
    assert ratios.completion_ratio("gpt-4o") == 9
    assert ratios.completion_ratio("deepseek-chat") == 1.5
    assert ratios.completion_ratio("gpt-4", 3) == 7
    assert ratios.completion_ratio("gpt-4", 1) == 2
    assert ratios.completion_ratio("whisper-1") == 0  # built-in entry still there


def test_group_ratio() -> None:
    assert DEFAULTS.group_ratio("default") == 1
    assert DEFAULTS.group_ratio("nope") == 1
    assert DEFAULTS.groups() == ["default", "svip", "vip"]
    ratios = Ratios.from_options(None, None, '{"vip": 0.5, "svip": 2}')
    assert (ratios.group_ratio("vip"), ratios.group_ratio("svip"), ratios.group_ratio("default")) == (0.5, 2, 1)


@pytest.mark.parametrize("bad", ["{", "[]", '{"a": "1"}', '{"a": true}', '"x"'])
def test_invalid_ratio_json(bad: str) -> None:
    with pytest.raises(ValueError):
        Ratios.from_options(bad, None, None)
    with pytest.raises(ValueError):
        parse_ratio_json(bad)


def test_null_and_empty_json_are_empty_maps() -> None:
    assert parse_ratio_json("null") == {} and parse_ratio_json("") == {}
    assert Ratios.from_options("null", "", "null").group_ratio("default") == 1


def test_go_style_json_of_defaults() -> None:
    assert gojson.dumps(DEFAULT_GROUP_RATIO) == '{"default":1,"svip":1,"vip":1}'
    assert gojson.dumps(DEFAULT_COMPLETION_RATIO) == (
        '{"deepseek-chat":2,"deepseek-reasoner":3.981818181818182,"llama3-70b-8192(33)":1.320754716981132,'
        '"llama3-8b-8192(33)":2,"whisper-1":0}'
    )
    text = gojson.dumps(DEFAULT_MODEL_RATIO)
    for fragment in ('"gpt-4":15,', '"gpt-4o-mini":0.075,', '"gemma-7b-it":0.000035,', '"openrouter/auto":-500000,'):
        assert fragment in text
    assert ".0," not in text and ".0}" not in text
    keys = list(json.loads(text))
    assert keys == sorted(keys)


def test_json_round_trip_of_defaults() -> None:
    model, completion, group = (gojson.dumps(t) for t in (DEFAULT_MODEL_RATIO, DEFAULT_COMPLETION_RATIO, DEFAULT_GROUP_RATIO))
    assert json.loads(model) == DEFAULT_MODEL_RATIO
    ratios = Ratios.from_options(model, completion, group)
    assert dict(ratios.model) == DEFAULT_MODEL_RATIO
    assert dict(ratios.completion) == DEFAULT_COMPLETION_RATIO
    assert dict(ratios.group) == DEFAULT_GROUP_RATIO
    assert ratios == DEFAULTS
