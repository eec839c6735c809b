"""Ollama (type 30): the native /api/chat (NDJSON stream) and /api/embed, Bearer key."""

from __future__ import annotations

from shared.relay.adaptors.ollama.adaptor import OllamaAdaptor
from shared.relay.adaptors.spec import API_OLLAMA, ChannelSpec, Text

MODELS = (
    "codellama:7b-instruct",
    "llama2:7b",
    "llama2:latest",
    "llama3:latest",
    "phi3:latest",
    "qwen:0.5b-chat",
    "qwen:7b",
)

SPECS = (
    ChannelSpec(
        id=30,
        name="Ollama",
        label=Text("Ollama", "Ollama"),
        api_type=API_OLLAMA,
        adaptor=OllamaAdaptor(),
        base_url="http://localhost:11434",
        models=MODELS,
        owner="ollama",
        catalogued=True,
    ),
)
