"""Gemini (type 24): OpenAI chat and embeddings <-> generateContent."""

from __future__ import annotations

from shared.relay.adaptors.gemini.adaptor import GeminiAdaptor
from shared.relay.adaptors.spec import API_GEMINI, API_VERSION, ChannelSpec, ConfigField, Text

# Also the list of Gemini's OpenAI-compatible type 51 (shared/relay/adaptors/geminiopenai/spec.py).

MODELS = (
    "gemini-pro",
    "gemini-1.0-pro",
    "gemini-1.5-flash",
    "gemini-1.5-flash-8b",
    "gemini-1.5-pro",
    "gemini-1.5-pro-experimental",
    "text-embedding-004",
    "aqa",
    "gemini-2.0-flash",
    "gemini-2.0-flash-exp",
    "gemini-2.0-flash-lite-preview-02-05",
    "gemini-2.0-flash-thinking-exp-01-21",
    "gemini-2.0-pro-exp-02-05",
)

SPECS = (
    ChannelSpec(
        id=24,
        name="Gemini",
        label=Text("Gemini", "Gemini"),
        api_type=API_GEMINI,
        adaptor=GeminiAdaptor(),
        base_url="https://generativelanguage.googleapis.com",
        models=MODELS,
        owner="google gemini",
        catalogued=True,
        fields=(
            ConfigField("config.api_version", API_VERSION, hint=Text("For example v1 or v1beta", "例如 v1 或 v1beta"), placeholder="v1"),
        ),
        other_fallback="api_version",
    ),
)
