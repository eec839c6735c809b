"""Replicate (type 46): the prediction API; chat through the prediction's stream (or its polled
output), images through the polled output returned as b64_json, as One API returns them."""

from __future__ import annotations

from shared.relay.adaptors.replicate.adaptor import ReplicateAdaptor
from shared.relay.adaptors.replicate.models import MODELS
from shared.relay.adaptors.spec import API_REPLICATE, ChannelSpec, Text

SPECS = (
    ChannelSpec(
        id=46,
        name="Replicate",
        label=Text("Replicate", "Replicate"),
        api_type=API_REPLICATE,
        adaptor=ReplicateAdaptor(),
        base_url="https://api.replicate.com/v1/models/",
        models=MODELS,
        owner="replicate",
        catalogued=True,
    ),
)
