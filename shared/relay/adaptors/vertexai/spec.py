"""Google Vertex AI (type 42): Gemini and Claude with a service-account OAuth token (google-auth).
The endpoint is the region's aiplatform host, or the channel's base URL when it has one."""

from __future__ import annotations

from shared.relay.adaptors.spec import API_VERTEXAI, KEY_COMPOSED, REGION, ChannelSpec, ConfigField, Text
from shared.relay.adaptors.vertexai.adaptor import VertexAIAdaptor

VERTEXAI_CLAUDE = (
    "claude-3-haiku@20240307",
    "claude-3-sonnet@20240229",
    "claude-3-opus@20240229",
    "claude-3-5-sonnet@20240620",
    "claude-3-5-sonnet-v2@20241022",
    "claude-3-5-haiku@20241022",
)
VERTEXAI_GEMINI = (
    "gemini-pro",
    "gemini-pro-vision",
    "gemini-1.5-pro-001",
    "gemini-1.5-flash-001",
    "gemini-1.5-pro-002",
    "gemini-1.5-flash-002",
    "gemini-2.0-flash-exp",
    "gemini-2.0-flash-thinking-exp",
)
MODELS = VERTEXAI_CLAUDE + VERTEXAI_GEMINI

SPECS = (
    ChannelSpec(
        id=42,
        name="VertextAI",
        label=Text("VertexAI", "VertexAI"),
        api_type=API_VERTEXAI,
        adaptor=VertexAIAdaptor(),
        models=MODELS,
        owner="vertexai",
        catalogued=True,
        key_format=KEY_COMPOSED,
        key_from_fields=("region", "vertex_ai_project_id", "vertex_ai_adc"),
        fields=(
            ConfigField("config.region", REGION, placeholder="us-central1"),
            ConfigField("config.vertex_ai_project_id", Text("Project ID", "项目 ID")),
            ConfigField(
                "config.vertex_ai_adc",
                Text("Service account JSON (ADC)", "服务账号 JSON (ADC)"),
                hint=Text("The JSON key of a service account", "服务账号的 JSON 密钥"),
                multiline=True,
            ),
        ),
    ),
)
