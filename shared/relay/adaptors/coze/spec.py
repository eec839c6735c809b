"""Coze (type 34): the bot chat API; the model names the bot.
Not relayed yet: `adaptor=None` makes the engine answer "channel type … is not supported yet"."""

from __future__ import annotations

from shared.relay.adaptors.spec import API_COZE, ChannelSpec, ConfigField, Text

MODELS = ("moonshot-v1-8k", "moonshot-v1-32k", "moonshot-v1-128k")

SPECS = (
    ChannelSpec(
        id=34,
        name="Coze",
        label=Text("Coze", "Coze"),
        api_type=API_COZE,
        adaptor=None,
        base_url="https://api.coze.com",
        models=MODELS,
        owner="coze",
        catalogued=True,
        fields=(ConfigField("config.user_id", Text("Coze user ID", "Coze 用户 ID")),),
    ),
)
