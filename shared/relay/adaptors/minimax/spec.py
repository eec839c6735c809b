"""MiniMax (type 27): chat only, on its own path."""

from __future__ import annotations

from shared.relay import modes
from shared.relay.adaptors.openai.spec import ADAPTOR
from shared.relay.adaptors.spec import API_OPENAI, ChannelSpec, Route, Text

MODELS = ("abab6.5-chat", "abab6.5s-chat", "abab6-chat", "abab5.5-chat", "abab5.5s-chat")

SPECS = (
    ChannelSpec(
        id=27,
        name="Minimax",
        label=Text("MiniMax", "MiniMax"),
        api_type=API_OPENAI,
        adaptor=ADAPTOR,
        base_url="https://api.minimax.chat",
        models=MODELS,
        owner="minimax",
        catalogued=True,
        route=Route(paths={modes.CHAT: "/v1/text/chatcompletion_v2"}),
    ),
)
