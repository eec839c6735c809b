"""Novita (type 41): chat only; its base URL already ends in the API version."""

from __future__ import annotations

from shared.relay import modes
from shared.relay.adaptors.openai.spec import ADAPTOR
from shared.relay.adaptors.spec import API_OPENAI, ChannelSpec, Route, Text

MODELS = (
    "meta-llama/llama-3-8b-instruct",
    "meta-llama/llama-3-70b-instruct",
    "nousresearch/hermes-2-pro-llama-3-8b",
    "nousresearch/nous-hermes-llama2-13b",
    "mistralai/mistral-7b-instruct",
    "cognitivecomputations/dolphin-mixtral-8x22b",
    "sao10k/l3-70b-euryale-v2.1",
    "sophosympatheia/midnight-rose-70b",
    "gryphe/mythomax-l2-13b",
    "Nous-Hermes-2-Mixtral-8x7B-DPO",
    "lzlv_70b",
    "teknium/openhermes-2.5-mistral-7b",
    "microsoft/wizardlm-2-8x22b",
)

SPECS = (
    ChannelSpec(
        id=41,
        name="Novita",
        label=Text("Novita", "Novita"),
        api_type=API_OPENAI,
        adaptor=ADAPTOR,
        base_url="https://api.novita.ai/v3/openai",
        models=MODELS,
        owner="novita",
        catalogued=True,
        route=Route(paths={modes.CHAT: "/chat/completions"}),
    ),
)
