"""The provider registry: every channel type id resolves to a spec declared by a provider folder, and
the tables that used to be copied (catalogue, snapshot fallbacks, balance hosts, URL rules, the
console's type list) are read from it."""

from __future__ import annotations

import pathlib
from typing import Any

import pytest

from master.monitors.balance import READERS, _base, balance_reader
from shared.catalog import api_type, channel_models, channel_type, default_base_url
from shared.relay import modes
from shared.relay.adaptors import OpenAIAdaptor, adaptor_for, registry
from shared.relay.adaptors.spec import API_OPENAI, ChannelSpec
from shared.relay.types import RelayError, RelayMeta
from shared.snapshot import channel_config

ADAPTORS_DIR = pathlib.Path(registry.__file__).parent
# One API's channel types that no adaptor relays.
NOT_RELAYED: set[int] = set()  # every type relays now


def test_every_channel_type_id_resolves_to_its_own_spec() -> None:
    assert registry.DUMMY == 52
    for type_id in range(registry.DUMMY):
        spec = registry.spec_for(type_id)
        assert isinstance(spec, ChannelSpec), type_id
        assert spec.id == type_id
        assert channel_type(type_id) is not None and channel_type(type_id).name == spec.name  # type: ignore[union-attr]
        if type_id:
            assert spec.label.en and spec.label.zh, type_id
    assert registry.spec_for(52) is None and registry.spec_for(-1) is None


def test_unknown_ids_relay_as_openai_like_one_api() -> None:
    assert registry.relay_spec(999) is registry.spec_for(0)
    assert isinstance(adaptor_for(999), OpenAIAdaptor)
    assert api_type(999) == API_OPENAI and default_base_url(999) == ""


def test_exactly_the_sixteen_unported_types_have_no_adaptor() -> None:
    assert {spec.id for spec in registry.SPECS if spec.adaptor is None} == NOT_RELAYED
    for type_id in set(range(registry.DUMMY)) - NOT_RELAYED:
        assert adaptor_for(type_id) is not None, type_id


def test_every_provider_folder_is_registered_once() -> None:
    folders = {p.parent.name for p in ADAPTORS_DIR.glob("*/spec.py")}
    assert folders == set(registry.PROVIDERS)
    assert len(registry.PROVIDERS) == len(set(registry.PROVIDERS))


def test_a_type_declared_twice_is_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(registry, "PROVIDERS", ("deepseek", "deepseek"))
    with pytest.raises(ValueError, match="channel type 36 is declared by both deepseek and deepseek"):
        registry._load()


def test_specs_are_consistent() -> None:
    for spec in registry.SPECS:
        names = {f.name for f in spec.fields}
        assert all(n == "other" or n.startswith("config.") for n in names), spec.id
        assert {f"config.{k}" for k in spec.key_from_fields} <= names, spec.id
        assert not (spec.base_url_required and spec.base_url), spec.id
        assert spec.balance in READERS | {""}, spec.id
        assert spec.catalogued <= bool(spec.owner and spec.models), spec.id


def test_other_column_fallbacks_come_from_the_specs() -> None:
    assert {s.id: s.other_fallback for s in registry.SPECS if s.other_fallback} == {
        3: "api_version",
        17: "plugin",
        18: "api_version",
        21: "library_id",
        24: "api_version",
    }
    assert channel_config(3, None, "2024-02-01") == {"api_version": "2024-02-01"}
    assert channel_config(21, '{"library_id": "own"}', "legacy") == {"library_id": "own"}
    assert channel_config(1, None, "ignored") == {}


def test_balance_readers_and_hosts_come_from_the_specs() -> None:
    assert balance_reader(1) == balance_reader(8) == "openai"
    assert balance_reader(36) == "deepseek" and balance_reader(14) == "" and balance_reader(999) == ""
    assert _base({"type": 36, "base_url": ""}) == "https://api.deepseek.com"
    assert _base({"type": 10, "base_url": ""}) == "https://aiproxy.io"  # a fixed host, not the relay base URL
    assert _base({"type": 4, "base_url": ""}) == "https://api.closeai-proxy.xyz"
    assert _base({"type": 36, "base_url": "http://127.0.0.1:9/"}) == "http://127.0.0.1:9"


def test_model_lists_come_from_the_specs() -> None:
    assert channel_models(51) == channel_models(24)  # one Gemini list, not two copies
    assert channel_models(43) is None
    assert channel_models(3) == channel_models(1) == channel_models(21)


def _meta(channel_type: int, mode: int = modes.CHAT, **kw: Any) -> RelayMeta:
    path = {modes.CHAT: "/v1/chat/completions", modes.EMBEDDINGS: "/v1/embeddings", modes.IMAGES: "/v1/images/generations"}
    fields: dict[str, Any] = dict(
        mode=mode,
        channel_type=channel_type,
        channel_id=1,
        base_url=registry.channel_base_url(channel_type, kw.pop("own_base_url", "")),
        api_key="sk-k",
        config={},
        origin_model="m",
        actual_model=kw.pop("model", "m"),
        is_stream=False,
        request_path=path[mode],
    )
    fields.update(kw)
    return RelayMeta(**fields)


# (type, mode, model, the URL its spec builds from the type's default base URL)
URLS = [
    (1, modes.CHAT, "m", "https://api.openai.com/v1/chat/completions"),
    (2, modes.EMBEDDINGS, "m", "https://oa.api2d.net/v1/embeddings"),
    (20, modes.CHAT, "m", "https://openrouter.ai/api/v1/chat/completions"),
    (27, modes.CHAT, "m", "https://api.minimax.chat/v1/text/chatcompletion_v2"),
    (36, modes.CHAT, "m", "https://api.deepseek.com/v1/chat/completions"),
    (40, modes.CHAT, "m", "https://ark.cn-beijing.volces.com/api/v3/chat/completions"),
    (40, modes.CHAT, "bot-123", "https://ark.cn-beijing.volces.com/api/v3/bots/chat/completions"),
    (40, modes.EMBEDDINGS, "m", "https://ark.cn-beijing.volces.com/api/v3/embeddings"),
    (41, modes.CHAT, "m", "https://api.novita.ai/v3/openai/chat/completions"),
    (47, modes.CHAT, "m", "https://qianfan.baidubce.com/v2/chat/completions"),
    (49, modes.CHAT, "m", "https://dashscope.aliyuncs.com/compatible-mode/v1/chat/completions"),
    (49, modes.EMBEDDINGS, "m", "https://dashscope.aliyuncs.com/compatible-mode/v1/embeddings"),
    (51, modes.CHAT, "m", "https://generativelanguage.googleapis.com/v1beta/openai/chat/completions"),
]


@pytest.mark.parametrize(("type_id", "mode", "model", "expected"), URLS)
def test_url_rules_per_type(type_id: int, mode: int, model: str, expected: str) -> None:
    adaptor = adaptor_for(type_id)
    assert adaptor is not None
    assert adaptor.build_request(_meta(type_id, mode, model=model), None, b"{}").url == expected


@pytest.mark.parametrize(("type_id", "mode"), [(27, modes.EMBEDDINGS), (41, modes.IMAGES), (47, modes.EMBEDDINGS), (40, modes.IMAGES)])
def test_a_mode_outside_a_types_paths_is_refused(type_id: int, mode: int) -> None:
    adaptor = adaptor_for(type_id)
    assert adaptor is not None
    with pytest.raises(RelayError) as caught:
        adaptor.build_request(_meta(type_id, mode), None, b"{}")
    assert caught.value.status == 500 and caught.value.code == "do_request_failed"


def test_headers_per_type() -> None:
    azure = adaptor_for(3).build_request(  # type: ignore[union-attr]
        _meta(3, own_base_url="https://r.openai.azure.com", config={"api_version": "2024-02-01"}), None, b"{}"
    )
    assert azure.headers["api-key"] == "sk-k" and "Authorization" not in azure.headers
    assert azure.url == "https://r.openai.azure.com/openai/deployments/m/chat/completions?api-version=2024-02-01"
    router = adaptor_for(20).build_request(_meta(20), None, b"{}")  # type: ignore[union-attr]
    assert router.headers["Authorization"] == "Bearer sk-k" and router.headers["X-Title"] == "One API"
    plain = adaptor_for(36).build_request(_meta(36), None, b"{}")  # type: ignore[union-attr]
    assert "X-Title" not in plain.headers


def test_openai_compatible_keeps_its_base_url_as_typed() -> None:
    assert registry.channel_base_url(50, "https://host/api/v1/") == "https://host/api/v1/"
    assert registry.channel_base_url(1, "https://proxy.example/") == "https://proxy.example"
    assert registry.channel_base_url(1, "") == "https://api.openai.com"


def test_console_types_cover_every_selectable_type() -> None:
    types = registry.console_types()
    assert sorted(t["id"] for t in types) == list(range(1, registry.DUMMY))
    aws = next(t for t in types if t["id"] == 33)
    assert aws["key_from_fields"] == ["ak", "sk", "region"] and aws["relays"] is True
    assert [f["name"] for f in aws["fields"]] == ["config.region", "config.ak", "config.sk"]
    azure = next(t for t in types if t["id"] == 3)
    assert azure["base_url_required"] is True and azure["fields"][0]["default"] == "2024-03-01-preview"
    assert azure["label"] == {"en": "Azure", "zh": "Azure"}
