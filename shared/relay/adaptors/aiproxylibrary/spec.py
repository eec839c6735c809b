"""AI Proxy's knowledge base (type 21): /api/library/ask with a library id; it offers the OpenAI list."""

from __future__ import annotations

from shared.relay.adaptors.aiproxylibrary.adaptor import AIProxyLibraryAdaptor
from shared.relay.adaptors.openai.spec import MODELS
from shared.relay.adaptors.spec import API_AIPROXY_LIBRARY, ChannelSpec, ConfigField, Text

SPECS = (
    ChannelSpec(
        id=21,
        name="AIProxyLibrary",
        label=Text("Knowledge base: AI Proxy", "知识库：AI Proxy"),
        api_type=API_AIPROXY_LIBRARY,
        adaptor=AIProxyLibraryAdaptor(),
        base_url="https://api.aiproxy.io",
        models=MODELS,
        fields=(
            ConfigField(
                "config.library_id",
                Text("Knowledge base ID", "知识库 ID"),
                hint=Text("The AI Proxy library to answer from", "AI Proxy 知识库 ID"),
            ),
        ),
        other_fallback="library_id",
    ),
)
