"""URL, headers and body of an upstream call for every channel type served by the OpenAI adaptor."""

from __future__ import annotations

from typing import Any

import orjson

from shared.relay import modes
from shared.relay.adaptors.common import unsupported_mode
from shared.relay.adaptors.spec import Route
from shared.relay.types import RelayMeta

CLOUDFLARE_GATEWAY = "https://gateway.ai.cloudflare.com"


def route_of(channel_type: int) -> Route:
    """The URL and header rules of a channel type, from its spec in the provider registry."""
    # Read at call time: the registry imports this adaptor (every OpenAI-protocol spec names it).
    from shared.relay.adaptors.registry import relay_spec

    return relay_spec(channel_type).route


def full_url(base_url: str, path: str, route: Route) -> str:
    """Base URL + path, with the type's prefix rules (OpenAI-compatible types, Cloudflare AI Gateway)."""
    if route.drop_prefix:
        return base_url.removesuffix("/") + path.removeprefix(route.drop_prefix)
    if route.gateway_drop_prefix and base_url.startswith(CLOUDFLARE_GATEWAY):
        return base_url + path.removeprefix(route.gateway_drop_prefix)
    return base_url + path


def request_url(meta: RelayMeta, route: Route | None = None) -> str:
    route = route or route_of(meta.channel_type)
    if route.url is not None:
        return route.url(meta)
    if route.paths is not None:
        path = route.paths.get(meta.mode)
        if path is None:
            raise unsupported_mode(meta.mode)
        return meta.base_url + path
    return full_url(meta.base_url, meta.request_path, route)


def request_headers(meta: RelayMeta, converted: bool, route: Route | None = None) -> dict[str, str]:
    route = route or route_of(meta.channel_type)
    headers: dict[str, str] = {}
    content_type = meta.client_headers.get("content-type")
    if converted:
        headers["Content-Type"] = "application/json"
    elif content_type:
        headers["Content-Type"] = content_type  # multipart boundaries must survive pass-through
    accept = meta.client_headers.get("accept")
    if accept:
        headers["Accept"] = accept
    elif meta.is_stream:
        headers["Accept"] = "text/event-stream"
    headers[route.auth_header] = route.auth_scheme + meta.api_key
    headers.update(route.headers)
    return headers


def request_body(meta: RelayMeta, body: dict[str, Any]) -> bytes:
    """A converted request: re-serialised, and a stream always asks upstream for usage."""
    if body.get("stream") and meta.mode in (modes.CHAT, modes.COMPLETIONS):
        options = body.get("stream_options")
        body = {**body, "stream_options": {**(options if isinstance(options, dict) else {}), "include_usage": True}}
    return orjson.dumps(body)
