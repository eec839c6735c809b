"""Proxy (type 43) as a channel type: it serves the /v1/oneapi/proxy route only (other modes get a
clear 404 from its adaptor). It has no model list."""

from __future__ import annotations

from shared.relay.adaptors.proxy.adaptor import ProxyAdaptor
from shared.relay.adaptors.spec import API_PROXY, ChannelSpec, Text

SPECS = (
    ChannelSpec(
        id=43,
        name="Proxy",
        label=Text("Proxy", "Proxy"),
        api_type=API_PROXY,
        adaptor=ProxyAdaptor(),
        models=None,
        base_url_required=True,
        key_format=Text(
            "Sent as the Authorization header as is (add a scheme such as Bearer if the upstream wants one)",
            "原样作为 Authorization 请求头发送（上游需要时请自带 Bearer 等前缀）",
        ),
    ),
)
