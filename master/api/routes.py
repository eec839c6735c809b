"""Every /api route, gathered from the resource modules."""

from __future__ import annotations

from starlette.routing import BaseRoute

from master.api import public


def api_routes() -> list[BaseRoute]:
    return [*public.routes]
