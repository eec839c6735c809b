"""Requests that are neither /api nor relay: the web console built into web/dist.

Files under web/dist are served as they are (hashed assets cached for a year); any other path is a
client-side route and gets index.html, with the theme written into <html data-theme>. Every answer
carries a Content-Security-Policy that allows only this origin, plus the few outside origins the
administrator configured on purpose (logo / QR code images, a home page URL, the chat page, Turnstile).
"""

from __future__ import annotations

import html
import re
from pathlib import Path
from urllib.parse import urlsplit

from starlette.middleware.gzip import GZipMiddleware
from starlette.requests import Request
from starlette.responses import FileResponse, HTMLResponse, Response
from starlette.types import Receive, Scope, Send

from master.api.common import client_ip
from master.context import get_ctx
from master.options import Options
from master.ratelimit import Limit
from shared.settings import Settings

DIST = Path(__file__).resolve().parent.parent / "web" / "dist"
ASSET_PREFIX = "/assets/"
LONG_CACHE = "public, max-age=31536000, immutable"
TURNSTILE = "https://challenges.cloudflare.com"
THEME_ATTR = 'data-theme="default"'

NOT_BUILT = """<!doctype html><html lang="en"><head><meta charset="utf-8"><title>One API</title></head>
<body><h1>One API: the web console is not built</h1>
<p>The management API is served under <code>/api</code> and the relay under <code>/v1</code>.
To build the console run <code>make console</code> (or <code>npm ci &amp;&amp; npm run build</code> in
<code>web/</code>), then reload this page.</p>
<p lang="zh-CN">控制台尚未构建：请运行 <code>make console</code> 后刷新本页面。</p></body></html>"""


def _origin(url: str) -> str | None:
    """scheme://host[:port] of an http(s) URL, or None."""
    parts = urlsplit(url.strip())
    if parts.scheme in ("http", "https") and parts.netloc and re.fullmatch(r"[A-Za-z0-9.\-:\[\]]+", parts.netloc):
        return f"{parts.scheme}://{parts.netloc}"
    return None


def content_security_policy(options: Options) -> str:
    """Own origin only, widened just for outside resources the administrator configured."""
    images = {"'self'", "data:"}
    frames = {"'self'"}
    scripts = {"'self'"}
    for key in ("Logo", "WeChatAccountQRCodeImageURL"):
        if origin := _origin(options.get(key)):
            images.add(origin)
    for key in ("HomePageContent", "About", "ChatLink"):  # pages the console shows in a frame
        if origin := _origin(options.get(key)):
            frames.add(origin)
    if options.flag("TurnstileCheckEnabled"):
        scripts.add(TURNSTILE)
        frames.add(TURNSTILE)
    join = lambda values: " ".join(sorted(values))  # noqa: E731 - stable header text
    return (
        f"default-src 'self'; script-src {join(scripts)}; style-src 'self'; img-src {join(images)}; "
        f"font-src 'self'; connect-src 'self'; frame-src {join(frames)}; object-src 'none'; "
        "base-uri 'self'; form-action 'self'; frame-ancestors 'none'"
    )


def console_theme(settings: Settings, options: Options) -> str:
    """The Theme option when an administrator chose one, else THEME; the console warns about and
    replaces names it does not know."""
    chosen = options.get("Theme")
    name = chosen if chosen and chosen != "default" else settings.theme
    return html.escape(name[:40] or "default", quote=True)


class Console:
    """index.html read once per build (by modification time) and files looked up under DIST."""

    def __init__(self, dist: Path) -> None:
        self.dist = dist
        self._index: tuple[float, str] | None = None

    def index(self) -> str | None:
        path = self.dist / "index.html"
        try:
            mtime = path.stat().st_mtime
        except OSError:
            return None
        if self._index is None or self._index[0] != mtime:
            self._index = (mtime, path.read_text(encoding="utf-8"))
        return self._index[1]

    def file(self, url_path: str) -> Path | None:
        """The built file for a URL path, never outside DIST."""
        relative = url_path.lstrip("/")
        if not relative or "\x00" in relative:
            return None
        root = self.dist.resolve()
        candidate = (root / relative).resolve()
        if candidate != root and root in candidate.parents and candidate.is_file():
            return candidate
        return None


console = Console(DIST)


async def page(request: Request) -> Response:
    ctx = get_ctx(request)
    limit = Limit("GW", ctx.settings.global_web_rate_limit, 180)
    if not await ctx.limiter.allow(limit, client_ip(request)):
        return Response(status_code=429)
    headers = {"Content-Security-Policy": content_security_policy(ctx.options), "X-Content-Type-Options": "nosniff"}
    path = request.url.path
    found = console.file(path)
    if found is not None:
        cache = LONG_CACHE if path.startswith(ASSET_PREFIX) else "public, max-age=3600"
        return FileResponse(found, headers={**headers, "Cache-Control": cache})
    if path.startswith(ASSET_PREFIX):
        return Response("not found", status_code=404, media_type="text/plain", headers=headers)
    index = console.index()
    if index is None:
        return HTMLResponse(NOT_BUILT, status_code=503, headers={**headers, "Cache-Control": "no-store"})
    body = index.replace(THEME_ATTR, f'data-theme="{console_theme(ctx.settings, ctx.options)}"', 1)
    return HTMLResponse(body, headers={**headers, "Cache-Control": "no-cache"})


async def _page_asgi(scope: Scope, receive: Receive, send: Send) -> None:
    response = await page(Request(scope, receive))
    await response(scope, receive, send)


page_app = GZipMiddleware(_page_asgi, minimum_size=1024)
