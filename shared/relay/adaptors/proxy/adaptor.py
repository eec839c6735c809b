"""The Proxy channel type (43): it serves only the admin route /v1/oneapi/proxy/{channel_id}/… (relayed
by shared/relay/media.py `relay_proxy`, which forwards any request to the channel's base URL with the
raw key). Every other relay mode is refused here with a 404 that says where to go; being a 4xx
other than 400 it is retried, so a model that a Proxy channel also lists is still served by the
other channels (One API fails the conversion with a 500 instead)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, NoReturn

from shared.relay.types import RelayError, RelayMeta, UpstreamRequest


def proxy_only(meta: RelayMeta) -> RelayError:
    return RelayError(
        404,
        f"channel #{meta.channel_id} is a Proxy channel: it relays only /v1/oneapi/proxy/{meta.channel_id}/<path> "
        f"(admin tokens), not {meta.request_path}",
        type="invalid_request_error",
        code="proxy_channel_only",
    )


class ProxyAdaptor:
    name = "proxy"

    def build_request(self, meta: RelayMeta, body: dict[str, Any] | None, raw: bytes) -> UpstreamRequest:
        raise proxy_only(meta)

    # No request is ever built, so there is never an answer to convert.
    def convert_response(self, meta: RelayMeta, status: int, headers: Mapping[str, str], body: bytes) -> NoReturn:
        raise proxy_only(meta)

    def stream_converter(self, meta: RelayMeta) -> NoReturn:
        raise proxy_only(meta)
