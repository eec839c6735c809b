"""master/web.py without a browser: files, SPA fallback, caching, CSP, theme, the not-built page."""

from __future__ import annotations

from pathlib import Path

import pytest

from master import web
from tests.support.app import login, running_master

INDEX = '<!doctype html><html lang="en" data-theme="default"><head><script type="module" src="/assets/app-1a2b.js"></script></head><body></body></html>'


@pytest.fixture
def dist(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    root = tmp_path / "dist"
    (root / "assets").mkdir(parents=True)
    (root / "index.html").write_text(INDEX)
    (root / "assets" / "app-1a2b.js").write_text("console.log('app');" * 100)
    (root / "favicon.svg").write_text("<svg/>")
    (tmp_path / "secret.txt").write_text("outside")
    monkeypatch.setattr(web, "console", web.Console(root))
    return root


async def test_files_fallback_and_caching(sqlite_database, dist: Path) -> None:
    async with running_master(sqlite_database.env()) as (_, client):
        asset = await client.get("/assets/app-1a2b.js", headers={"Accept-Encoding": "gzip"})
        assert asset.status_code == 200 and asset.headers["cache-control"] == web.LONG_CACHE
        assert asset.headers["content-type"].startswith("text/javascript") and asset.headers["content-encoding"] == "gzip"
        assert (await client.get("/favicon.svg")).headers["cache-control"] == "public, max-age=3600"
        for path in ("/", "/channel", "/token/edit/3", "/user/reset?email=a&token=b"):
            page = await client.get(path)
            assert page.status_code == 200 and page.text.startswith("<!doctype html>"), path
            assert page.headers["cache-control"] == "no-cache"
            csp = page.headers["content-security-policy"]
            assert "default-src 'self'" in csp and "script-src 'self';" in csp and "frame-ancestors 'none'" in csp
        assert (await client.get("/assets/gone-9z.js")).status_code == 404
        for sneaky in ("/../secret.txt", "/%2e%2e/secret.txt", "/assets/../../secret.txt"):
            assert "outside" not in (await client.get(sneaky)).text


async def test_theme_and_configured_origins(sqlite_database, dist: Path) -> None:
    async with running_master({**sqlite_database.env(), "THEME": "dark"}) as (_, client):
        assert 'data-theme="dark"' in (await client.get("/")).text  # THEME names the console theme
        await login(client, "root", "123456")
        for key, value in (
            ("Theme", "berry"),
            ("Logo", "https://cdn.example.com/logo.png"),
            ("HomePageContent", "https://home.example.org/welcome"),
            ("TurnstileSiteKey", "site"),
            ("TurnstileCheckEnabled", "true"),
            ("ChatLink", "https://chat.example.net:8443/#/chat?x=1"),
        ):
            assert (await client.put("/api/option/", json={"key": key, "value": value})).json()["success"], key
        page = await client.get("/")
        assert 'data-theme="berry"' in page.text  # an administrator's choice wins
        csp = page.headers["content-security-policy"]
        assert "img-src 'self' data: https://cdn.example.com;" in csp
        assert "frame-src 'self' https://challenges.cloudflare.com https://chat.example.net:8443 https://home.example.org;" in csp
        assert "script-src 'self' https://challenges.cloudflare.com;" in csp


async def test_unknown_theme_is_passed_for_the_console_to_replace(sqlite_database, dist: Path) -> None:
    async with running_master({**sqlite_database.env(), "THEME": 'x"><script>'}) as (_, client):
        text = (await client.get("/")).text
        assert "<script>" not in text.split("<head>")[0] and 'data-theme="x&quot;&gt;&lt;script&gt;"' in text


async def test_not_built_page(sqlite_database, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(web, "console", web.Console(tmp_path / "nothing"))
    async with running_master(sqlite_database.env()) as (_, client):
        page = await client.get("/channel")
        assert page.status_code == 503 and "make console" in page.text
        assert "default-src 'self'" in page.headers["content-security-policy"]
        assert (await client.get("/api/status")).json()["success"]  # the API is unaffected


async def test_web_rate_limit_kept(sqlite_database, dist: Path) -> None:
    async with running_master({**sqlite_database.env(), "GLOBAL_WEB_RATE_LIMIT": "3"}) as (_, client):
        codes = [(await client.get("/")).status_code for _ in range(4)]
        assert codes == [200, 200, 200, 429]


async def test_dashboard_is_a_console_page_and_only_billing_is_the_relay(sqlite_database, dist: Path) -> None:
    """A bookmark or a reload of /dashboard gets the console; /dashboard/billing/* stays the relay's."""
    async with running_master(sqlite_database.env()) as (_, client):
        for path in ("/dashboard", "/dashboard/", "/dashboard?range=7"):
            page = await client.get(path)
            assert page.status_code == 200 and page.text.startswith("<!doctype html>"), path
        for path in ("/dashboard/billing/subscription", "/v1/dashboard/billing/usage"):
            billing = await client.get(path)  # no key: the relay's OpenAI-style 401
            assert billing.status_code == 401 and billing.json()["error"]["type"], path
