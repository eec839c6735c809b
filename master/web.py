"""Requests that are neither /api nor relay: the console's pages (console issue) and unknown paths."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import HTMLResponse, Response

from master.api.common import client_ip
from master.context import get_ctx
from master.ratelimit import Limit

PLACEHOLDER = """<!doctype html><html lang="en"><head><meta charset="utf-8"><title>One API</title></head>
<body><h1>One API</h1><p>The management API is served under <code>/api</code> and the relay under
<code>/v1</code>.</p></body></html>"""

CSP = "default-src 'self'; img-src 'self' data:; style-src 'self' 'unsafe-inline'; frame-ancestors 'none'"


async def page(request: Request) -> Response:
    ctx = get_ctx(request)
    limit = Limit("GW", ctx.settings.global_web_rate_limit, 180)
    if not await ctx.limiter.allow(limit, client_ip(request)):
        return Response(status_code=429)
    return HTMLResponse(PLACEHOLDER, headers={"Content-Security-Policy": CSP})


async def page_app(scope, receive, send) -> None:  # noqa: ANN001 - ASGI signature
    response = await page(Request(scope, receive))
    await response(scope, receive, send)
