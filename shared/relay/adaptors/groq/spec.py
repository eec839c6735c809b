"""Groq (type 29): an OpenAI-protocol upstream."""

from __future__ import annotations

from shared.relay.adaptors.openai.spec import ADAPTOR
from shared.relay.adaptors.spec import API_OPENAI, ChannelSpec, Text

MODELS = (
    "gemma-7b-it",
    "gemma2-9b-it",
    "llama-3.1-70b-versatile",
    "llama-3.1-8b-instant",
    "llama-3.2-11b-text-preview",
    "llama-3.2-11b-vision-preview",
    "llama-3.2-1b-preview",
    "llama-3.2-3b-preview",
    "llama-3.2-90b-text-preview",
    "llama-3.2-90b-vision-preview",
    "llama-guard-3-8b",
    "llama3-70b-8192",
    "llama3-8b-8192",
    "llama3-groq-70b-8192-tool-use-preview",
    "llama3-groq-8b-8192-tool-use-preview",
    "llava-v1.5-7b-4096-preview",
    "mixtral-8x7b-32768",
    "distil-whisper-large-v3-en",
    "whisper-large-v3",
    "whisper-large-v3-turbo",
)

SPECS = (
    ChannelSpec(
        id=29,
        name="Groq",
        label=Text("Groq", "Groq"),
        api_type=API_OPENAI,
        adaptor=ADAPTOR,
        base_url="https://api.groq.com/openai",
        models=MODELS,
        owner="groq",
        catalogued=True,
    ),
)
