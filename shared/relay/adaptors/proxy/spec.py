"""Proxy (type 43) as a channel type; /v1/oneapi/proxy is a route of its own. It has no model list.
Not relayed yet: `adaptor=None` makes the engine answer "channel type … is not supported yet"."""

from __future__ import annotations

from shared.relay.adaptors.spec import API_PROXY, ChannelSpec, Text

SPECS = (
    ChannelSpec(
        id=43,
        name="Proxy",
        label=Text("Proxy", "Proxy"),
        api_type=API_PROXY,
        adaptor=None,
        models=None,
        base_url_required=True,
    ),
)
