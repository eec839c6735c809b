"""Gemini's OpenAI-compatible endpoint (type 51): the native Gemini model list, the client's /v1 dropped."""

from __future__ import annotations

from shared.relay.adaptors.gemini.spec import MODELS
from shared.relay.adaptors.openai.spec import ADAPTOR
from shared.relay.adaptors.spec import API_OPENAI, ChannelSpec, Route, Text

SPECS = (
    ChannelSpec(
        id=51,
        name="GeminiOpenAICompatible",
        label=Text("Gemini (OpenAI)", "Gemini (OpenAI)"),
        api_type=API_OPENAI,
        adaptor=ADAPTOR,
        base_url="https://generativelanguage.googleapis.com/v1beta/openai/",
        models=MODELS,
        owner="geminiv2",
        route=Route(drop_prefix="/v1"),
    ),
)
