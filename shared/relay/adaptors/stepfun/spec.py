"""StepFun (type 32): an OpenAI-protocol upstream."""

from __future__ import annotations

from shared.relay.adaptors.openai.spec import ADAPTOR
from shared.relay.adaptors.spec import API_OPENAI, ChannelSpec, Text

MODELS = (
    "step-1-8k",
    "step-1-32k",
    "step-1-128k",
    "step-1-256k",
    "step-1-flash",
    "step-2-16k",
    "step-1v-8k",
    "step-1v-32k",
    "step-1x-medium",
)

SPECS = (
    ChannelSpec(
        id=32,
        name="StepFun",
        label=Text("StepFun", "阶跃星辰"),
        api_type=API_OPENAI,
        adaptor=ADAPTOR,
        base_url="https://api.stepfun.com",
        models=MODELS,
        owner="stepfun",
        catalogued=True,
    ),
)
