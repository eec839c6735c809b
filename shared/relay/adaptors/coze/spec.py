"""Coze (type 34): the bot chat API v2 with a personal access token; the model names the bot."""

from __future__ import annotations

from shared.relay.adaptors.coze.adaptor import CozeAdaptor
from shared.relay.adaptors.spec import API_COZE, ChannelSpec, ConfigField, Text

MODELS = ("moonshot-v1-8k", "moonshot-v1-32k", "moonshot-v1-128k")

SPECS = (
    ChannelSpec(
        id=34,
        name="Coze",
        label=Text("Coze", "Coze"),
        api_type=API_COZE,
        adaptor=CozeAdaptor(),
        base_url="https://api.coze.com",
        models=MODELS,
        owner="coze",
        catalogued=True,
        key_format=Text("A Coze personal access token", "Coze 个人访问令牌"),
        models_hint=Text("Model names are bot ids: bot-<id> or <id>", "模型名即 Bot ID：bot-<id> 或 <id>"),
        fields=(
            ConfigField(
                "config.user_id",
                Text("Coze user ID", "Coze 用户 ID"),
                hint=Text("Empty: the client's `user`, else one-api", "留空则使用客户端的 user 字段，否则为 one-api"),
            ),
        ),
    ),
)
