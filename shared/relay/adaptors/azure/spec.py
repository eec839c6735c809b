"""Azure OpenAI (type 3): deployment URLs with an api-version, and the `api-key` header."""

from __future__ import annotations

from shared.relay.adaptors.azure.url import azure_url
from shared.relay.adaptors.openai.spec import ADAPTOR
from shared.relay.adaptors.openai.spec import MODELS as OPENAI_MODELS
from shared.relay.adaptors.spec import API_OPENAI, API_VERSION, ChannelSpec, ConfigField, Route, Text

AZURE = 3

SPECS = (
    ChannelSpec(
        id=AZURE,
        name="Azure",
        label=Text("Azure", "Azure"),
        api_type=API_OPENAI,
        adaptor=ADAPTOR,
        models=OPENAI_MODELS,
        base_url_required=True,
        route=Route(url=azure_url, gateway_drop_prefix="/openai/deployments", auth_header="api-key", auth_scheme=""),
        fields=(
            ConfigField(
                "other",
                API_VERSION,
                hint=Text("Empty means 2024-03-01-preview", "留空则使用 2024-03-01-preview"),
                placeholder="2024-03-01-preview",
                default="2024-03-01-preview",
            ),
        ),
        other_fallback="api_version",
    ),
)
