"""Every /api route, gathered from the resource modules."""

from __future__ import annotations

from starlette.routing import BaseRoute

from master.api import channel_ops, channels, logs, oauth, oidc_discovery, options_api, public, redemptions, tokens, users


def api_routes() -> list[BaseRoute]:
    return [
        *public.routes,
        *users.routes,
        *oauth.routes,
        *oidc_discovery.routes,
        *tokens.routes,
        *channel_ops.routes,
        *channels.routes,
        *redemptions.routes,
        *logs.routes,
        *options_api.routes,
    ]
