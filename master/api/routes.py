"""Every /api route, gathered from the resource modules."""

from __future__ import annotations

from starlette.routing import BaseRoute

from master.api import channels, logs, oauth, options_api, public, redemptions, tokens, users


def api_routes() -> list[BaseRoute]:
    return [
        *public.routes,
        *users.routes,
        *oauth.routes,
        *tokens.routes,
        *channels.routes,
        *redemptions.routes,
        *logs.routes,
        *options_api.routes,
    ]
