"""The channel-type table and the static model catalogue (docs/one-api-compat.md §3.8, §4.5, §5.11)."""

from __future__ import annotations

import dataclasses

import orjson
import pytest

from shared.catalog import (
    api_type,
    catalogue_lookup,
    channel_models,
    channel_type,
    custom_model,
    default_base_url,
    model_catalogue,
    models_by_channel_type,
)
from shared.catalog import channel_types as ct
from shared.relay.adaptors.anthropic.spec import MODELS as ANTHROPIC_MODELS
from shared.relay.adaptors.openai.spec import MODELS as OPENAI_MODELS

PERMISSION = {
    "id": "modelperm-LwHkVFn8AcMItP432fKKDIKJ",
    "object": "model_permission",
    "created": 1626777600,
    "allow_create_engine": True,
    "allow_sampling": True,
    "allow_logprobs": True,
    "allow_search_indices": False,
    "allow_view": True,
    "allow_fine_tuning": False,
    "organization": "*",
    "group": None,
    "is_blocking": False,
}

CATALOGUE_OWNERS = [
    "openai",
    "anthropic",
    "google palm",
    "baidu",
    "zhipu",
    "ali",
    "xunfei",
    "tencent",
    "google gemini",
    "ollama",
    "aws",
    "coze",
    "Cohere",
    "cloudflare",
    "deepl",
    "vertexai",
    "replicate",
    "360",
    "moonshot",
    "baichuan",
    "minimax",
    "doubao",
    "mistralai",
    "groq",
    "lingyiwanwu",
    "stepfun",
    "deepseek",
    "together.ai",
    "novita",
    "siliconflow",
    "xai",
    "baiduv2",
    "xunfeiv2",
]


def test_catalogue_element_has_one_apis_exact_shape_and_key_order() -> None:
    first = model_catalogue()[0]
    encoded = orjson.dumps(first)
    assert encoded.startswith(b'{"id":"gpt-3.5-turbo","object":"model","created":1626777600,"owned_by":"openai",')
    assert orjson.loads(encoded) == {
        "id": "gpt-3.5-turbo",
        "object": "model",
        "created": 1626777600,
        "owned_by": "openai",
        "permission": [PERMISSION],
        "root": "gpt-3.5-turbo",
        "parent": None,
    }
    assert first.as_dict() == orjson.loads(encoded)


def test_catalogue_owners_follow_one_apis_order() -> None:
    owners = list(dict.fromkeys(entry.owned_by for entry in model_catalogue()))
    assert owners == CATALOGUE_OWNERS  # proxy has no models; AIProxyLibrary, Azure, OpenRouter, AliBailian, Gemini-OpenAI are left out


def test_catalogue_keeps_duplicates_and_lookup_takes_the_last() -> None:
    owners = [e.owned_by for e in model_catalogue() if e.id == "claude-3-5-sonnet-20241022"]
    assert owners == ["anthropic", "aws"]
    assert [e.owned_by for e in model_catalogue() if e.id == "gemini-pro"] == ["google gemini", "vertexai"]
    assert catalogue_lookup("claude-3-5-sonnet-20241022").owned_by == "aws"
    assert catalogue_lookup("gemini-pro").owned_by == "vertexai"
    assert catalogue_lookup("deepseek-chat").owned_by == "deepseek"
    assert catalogue_lookup("no-such-model") is None
    assert catalogue_lookup("openrouter/auto") is None  # OpenRouter's list is not catalogued


def test_catalogue_is_immutable_and_built_once() -> None:
    catalogue = model_catalogue()
    assert isinstance(catalogue, tuple) and catalogue is model_catalogue()
    with pytest.raises(dataclasses.FrozenInstanceError):
        catalogue[0].id = "changed"  # type: ignore[misc]
    with pytest.raises(TypeError):
        models_by_channel_type()["1"] = ()  # type: ignore[index]


def test_custom_model_shape() -> None:
    assert orjson.loads(orjson.dumps(custom_model("my-model"))) == {
        "id": "my-model",
        "object": "model",
        "created": 1626777600,
        "owned_by": "custom",
        "permission": None,
        "root": "my-model",
        "parent": None,
    }


def test_models_by_channel_type_covers_1_to_51() -> None:
    by_type = models_by_channel_type()
    assert list(by_type) == [str(i) for i in range(1, 52)]
    assert by_type["43"] is None  # Proxy
    assert by_type["1"] == by_type["3"] == by_type["8"] == by_type["50"] == OPENAI_MODELS
    assert by_type["21"] == OPENAI_MODELS  # AI Proxy library
    assert by_type["14"] == ANTHROPIC_MODELS
    assert "deepseek-reasoner" in by_type["36"]
    assert "openrouter/auto" in by_type["20"]
    assert "gemini-2.0-flash" in by_type["51"] and "gemini-2.0-flash" in by_type["24"]
    assert "claude-3-5-sonnet-20241022" in by_type["33"]
    assert by_type["38"] == ("deepl-zh", "deepl-en", "deepl-ja")
    assert channel_models(999) == OPENAI_MODELS  # unknown types fall back to OpenAI's adaptor


def test_channel_type_table() -> None:
    assert ct.DUMMY == 52
    anthropic = channel_type(14)
    assert anthropic is not None and (anthropic.name, anthropic.label) == ("Anthropic", "Anthropic")
    assert default_base_url(1) == "https://api.openai.com"
    assert default_base_url(3) == ""
    assert default_base_url(51) == "https://generativelanguage.googleapis.com/v1beta/openai/"
    assert default_base_url(99) == ""
    assert api_type(14) == ct.API_ANTHROPIC == 1
    assert api_type(33) == ct.API_AWS_CLAUDE == 11
    assert api_type(43) == ct.API_PROXY == 17
    assert api_type(46) == ct.API_REPLICATE == 18
    assert api_type(36) == api_type(99) == ct.API_OPENAI == 0
    assert channel_type(52) is None and channel_type(-1) is None
