"""Anthropic (type 14): OpenAI chat <-> the Messages API."""

from __future__ import annotations

from shared.relay.adaptors.anthropic.adaptor import AnthropicAdaptor
from shared.relay.adaptors.spec import API_ANTHROPIC, ChannelSpec, Text

# One API's list repeats claude-3-5-haiku-20241022; kept, since the catalogue keeps duplicates.

MODELS = (
    "claude-instant-1.2",
    "claude-2.0",
    "claude-2.1",
    "claude-3-haiku-20240307",
    "claude-3-5-haiku-20241022",
    "claude-3-sonnet-20240229",
    "claude-3-opus-20240229",
    "claude-3-5-sonnet-20240620",
    "claude-3-5-sonnet-20241022",
    "claude-3-5-sonnet-latest",
    "claude-3-5-haiku-20241022",
)

SPECS = (
    ChannelSpec(
        id=14,
        name="Anthropic",
        label=Text("Anthropic", "Anthropic"),
        api_type=API_ANTHROPIC,
        adaptor=AnthropicAdaptor(),
        base_url="https://api.anthropic.com",
        models=MODELS,
        owner="anthropic",
        catalogued=True,
    ),
)
