"""POST /api/oidc/discovery: the master fetches an OIDC well-known document for the console's settings.

The "provider" is a local fake well-known server; the master's hardened client refuses loopback, so
each test that must reach it swaps in a client whose address policy also admits loopback (as
tests/test_usercontent.py does). The refusal itself is tested with the node's own client.
"""

from __future__ import annotations

from collections.abc import AsyncIterator

import httpx
import orjson
import pytest

from shared.usercontent import UserContentClient
from tests.support.app import client_for, login, make_user, running_master
from tests.test_usercontent import LocalServer, allow_loopback

WELL_KNOWN = "/.well-known/openid-configuration"
DOCUMENT = {
    "issuer": "https://id.example.com",
    "authorization_endpoint": "https://id.example.com/oauth2/authorize",
    "token_endpoint": "https://id.example.com/oauth2/token",
    "userinfo_endpoint": "https://id.example.com/oauth2/userinfo",
    "jwks_uri": "https://id.example.com/oauth2/keys",
    "response_types_supported": ["code"],
}
JSON = {"Content-Type": "application/json"}


@pytest.fixture
async def provider() -> AsyncIterator[LocalServer]:
    srv = LocalServer()
    await srv.start()
    srv.routes.update(
        {
            WELL_KNOWN: (200, JSON, orjson.dumps(DOCUMENT)),
            "/moved": (302, {"Location": WELL_KNOWN}, b""),
            "/partial": (200, JSON, orjson.dumps({**DOCUMENT, "token_endpoint": "javascript:alert(1)"})),
            "/array": (200, JSON, b"[1, 2]"),
            "/html": (200, {"Content-Type": "text/html"}, b"<html>login</html>"),
            "/huge": (200, JSON, b'{"issuer": "' + b"x" * 100_000 + b'"}'),
            "/to-metadata": (302, {"Location": "http://169.254.169.254/latest/meta-data/"}, b""),
        }
    )
    yield srv
    await srv.stop()


@pytest.fixture
async def root(sqlite_database) -> AsyncIterator[tuple[object, httpx.AsyncClient]]:
    async with running_master(sqlite_database.env()) as (app, client):
        await login(client, "root", "123456")
        yield app, client


def admit_loopback(app: object) -> None:
    """Test-only: the node's user-content client also reaches the local fake provider."""
    engine = app.state.relay.engine  # type: ignore[attr-defined]
    engine.user_content = UserContentClient(timeout=5, trust_env=False, is_allowed_ip=allow_loopback)


async def discover(client: httpx.AsyncClient, url: object, lang: str = "en") -> dict:
    resp = await client.post("/api/oidc/discovery", json={"url": url}, headers={"Accept-Language": lang})
    assert resp.status_code == 200
    return resp.json()


async def test_endpoints_filled_from_the_document(root, provider: LocalServer) -> None:
    app, client = root
    admit_loopback(app)
    expected = {
        "OidcAuthorizationEndpoint": DOCUMENT["authorization_endpoint"],
        "OidcTokenEndpoint": DOCUMENT["token_endpoint"],
        "OidcUserinfoEndpoint": DOCUMENT["userinfo_endpoint"],
        "issuer": DOCUMENT["issuer"],
    }
    assert await discover(client, provider.url(WELL_KNOWN)) == {"success": True, "message": "", "data": expected}
    assert (await discover(client, provider.url("/moved")))["data"] == expected  # redirects are followed
    assert [r[:2] for r in provider.requests] == [("GET", WELL_KNOWN), ("GET", "/moved"), ("GET", WELL_KNOWN)]


@pytest.mark.parametrize(
    ("path", "message"),
    [
        ("/partial", "the well-known document lacks a valid token_endpoint"),
        ("/array", "the well-known document is not a JSON object"),
        ("/html", "the well-known document is not a JSON object"),
        ("/nothing-here", "the well-known URL answered HTTP 404"),
    ],
)
async def test_bad_documents_are_explained(root, provider: LocalServer, path: str, message: str) -> None:
    app, client = root
    admit_loopback(app)
    assert await discover(client, provider.url(path)) == {"success": False, "message": message}


async def test_size_cap_and_forbidden_redirect(root, provider: LocalServer) -> None:
    app, client = root
    admit_loopback(app)
    huge = await discover(client, provider.url("/huge"))
    assert huge["success"] is False and "larger than 65536 bytes" in huge["message"]
    metadata = await discover(client, provider.url("/to-metadata"))
    assert metadata["success"] is False and "169.254.169.254" in metadata["message"]


async def test_the_node_client_refuses_loopback(root, provider: LocalServer) -> None:
    _, client = root
    body = await discover(client, provider.url(WELL_KNOWN), lang="zh-CN")
    assert body["success"] is False and body["message"].startswith("无法获取 Well-Known 文档：")
    assert "not resolve to a public address" in body["message"] and provider.requests == []


@pytest.mark.parametrize(
    "url", [None, "", 42, ["http://x"], "ftp://id.example.com/x", "file:///etc/passwd", "http://a b/", "https://x/" + "a" * 3000]
)
async def test_bad_urls_are_refused_without_a_fetch(root, url: object) -> None:
    _, client = root
    assert await discover(client, url) == {"success": False, "message": "the well-known URL must be an http or https URL"}


async def test_body_that_is_not_an_object(root) -> None:
    _, client = root
    for raw in (b"", b"not json", b"[1]"):
        resp = await client.post("/api/oidc/discovery", content=raw, headers={"Content-Type": "application/json"})
        assert resp.json()["success"] is False


async def test_admins_only(root, provider: LocalServer) -> None:
    app, client = root
    admit_loopback(app)
    anonymous = client_for(app)
    common = await make_user(client, app, "plainuser")
    try:
        assert (await anonymous.post("/api/oidc/discovery", json={"url": provider.url(WELL_KNOWN)})).status_code == 401
        assert (await discover(common, provider.url(WELL_KNOWN))) == {"success": False, "message": "无权进行此操作，权限不足"}
    finally:
        await anonymous.aclose()
        await common.aclose()
    assert provider.requests == []
