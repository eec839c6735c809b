"""Any OpenAI-compatible server (type 50): its base URL is used as typed, and the client's /v1 is dropped
(the base URL carries its own version path)."""

from __future__ import annotations

from shared.relay.adaptors.openai.spec import ADAPTOR
from shared.relay.adaptors.openai.spec import MODELS as OPENAI_MODELS
from shared.relay.adaptors.spec import API_OPENAI, ChannelSpec, Route, Text

SPECS = (
    ChannelSpec(
        id=50,
        name="OpenAICompatible",
        label=Text("OpenAI compatible", "OpenAI 兼容"),
        api_type=API_OPENAI,
        adaptor=ADAPTOR,
        models=OPENAI_MODELS,
        base_url_required=True,
        keep_trailing_slash=True,
        route=Route(drop_prefix="/v1"),
    ),
)
