"""Console additions for operators: the chat page (ChatLink in a frame, inside the console), root's
credit-a-user page (POST /api/topup with a remark) and the OIDC "fill from the well-known URL" helper.

The outside world is one local server: the chat UI the frame shows, and the identity provider's
discovery document, reached by the master through USER_CONTENT_REQUEST_PROXY (an operator's egress
proxy) for a public address, since its hardened client never connects to loopback by itself.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import orjson
import pytest
from playwright.sync_api import expect

from tests.browser.conftest import Browsing, login, toast
from tests.cluster.harness import Node
from tests.support.threaded_server import ThreadedServer

IDP = "http://1.1.1.1"  # never contacted: the proxy below answers for it
DISCOVERY = {
    "issuer": IDP,
    "authorization_endpoint": f"{IDP}/authorize",
    "token_endpoint": f"{IDP}/token",
    "userinfo_endpoint": f"{IDP}/userinfo",
}
CHAT_HTML = b"<!doctype html><html><body><h1>Fake chat UI</h1></body></html>"


class Outside:
    """The chat UI's host and the egress proxy in one ASGI app; records (Host, path) of each request."""

    def __init__(self) -> None:
        self.seen: list[tuple[str, str]] = []

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        headers = dict(scope["headers"])
        self.seen.append((headers.get(b"host", b"").decode(), scope["path"]))
        if scope["path"] == "/.well-known/openid-configuration":
            body, kind = orjson.dumps(DISCOVERY), b"application/json"
        else:
            body, kind = CHAT_HTML, b"text/html"
        await send(
            {
                "type": "http.response.start",
                "status": 200,
                "headers": [(b"content-type", kind), (b"content-length", str(len(body)).encode())],
            }
        )
        await send({"type": "http.response.body", "body": body})


@pytest.fixture(scope="module")
def outside() -> Iterator[tuple[Outside, str]]:
    app = Outside()
    server = ThreadedServer(app, name="outside").start()
    try:
        yield app, f"http://127.0.0.1:{server.port}"
    finally:
        server.stop()


def set_option(page: object, key: str, value: str) -> None:
    assert page.request.put("/api/option/", data={"key": key, "value": value}).json()["success"], key


def test_chat_page_shows_chat_link_inside_the_console(browsing, outside) -> None:
    _, base = outside
    page = browsing.page()
    login(page, "root", "123456")
    expect(page.get_by_role("link", name="Chat")).to_have_count(0)  # no ChatLink, no entry
    page.goto("/chat")
    expect(page.get_by_test_id("no-chat")).to_be_visible()
    set_option(page, "ChatLink", f"{base}/chat-ui/#/?settings=1")
    try:
        page.goto("/")
        page.reload()  # the status (with chat_link) is fetched again
        page.get_by_role("link", name="Chat").click()
        assert page.url.endswith("/chat") and len(page.context.pages) == 1  # in the console, not a new tab
        expect(page.frame_locator("[data-testid=chat-frame]").get_by_role("heading", name="Fake chat UI")).to_be_visible()
        assert page.get_by_role("link", name="Open in a new tab").get_attribute("target") == "_blank"
    finally:
        set_option(page, "ChatLink", "")


def test_root_credits_a_user_with_a_remark(browsing) -> None:
    page = browsing.page()
    login(page, "root", "123456")
    name = f"t{uuid.uuid4().hex[:8]}"
    assert page.request.post("/api/user/", data={"username": name, "password": "password123", "display_name": name}).json()["success"]
    found = page.request.get(f"/api/user/search?keyword={name}").json()["data"]
    user_id, before = found[0]["id"], found[0]["quota"]

    page.get_by_role("link", name="Users").click()
    page.locator("tr", has_text=name).get_by_role("link", name="Top up").click()
    assert page.url.endswith(f"/user/topup?id={user_id}")
    expect(page.get_by_text(f"{name}, balance")).to_be_visible()
    page.locator("input[name=quota]").fill("-5")
    page.get_by_role("button", name="Add quota").click()
    expect(toast(page).filter(has_text="Enter a whole quota above 0")).to_be_visible()
    page.locator("input[name=quota]").fill("250000")
    page.locator("input[name=remark]").fill("conference credit")
    page.get_by_role("button", name="Add quota").click()
    expect(toast(page).filter(has_text=f"to user #{user_id}")).to_be_visible()

    assert page.request.get(f"/api/user/{user_id}").json()["data"]["quota"] == before + 250000
    logs = page.request.get(f"/api/log/?type=1&username={name}").json()["data"]
    assert [(row["content"], row["quota"]) for row in logs] == [("conference credit", 250000)]


@pytest.fixture
def proxied_master(outside, tmp_path: Path) -> Iterator[str]:
    """A master whose user-content client goes through the egress proxy (the `outside` server)."""
    _, proxy = outside
    node = Node("oidc-master", {"SQLITE_PATH": str(tmp_path / "one-api.db"), "USER_CONTENT_REQUEST_PROXY": proxy}, tmp_path)
    try:
        node.start()
        yield node.url
    finally:
        node.stop()


def test_oidc_endpoints_filled_from_the_well_known_url(browser, proxied_master: str, outside) -> None:
    app, _ = outside
    b = Browsing(browser, proxied_master, "oidc-well-known")
    try:
        page = b.page()
        login(page, "root", "123456")
        page.goto("/setting?tab=system")
        card = page.locator(".card", has=page.get_by_role("heading", name="OIDC", exact=True))
        fill = card.get_by_role("button", name="Fill from the well-known URL")
        fill.click()
        expect(toast(page).filter(has_text="Enter the well-known URL first")).to_be_visible()

        card.locator("input[name=OidcWellKnown]").fill(f"{IDP}/.well-known/openid-configuration")
        fill.click()
        expect(toast(page).filter(has_text=f"Endpoints filled from {IDP}")).to_be_visible()
        assert ("1.1.1.1", "/.well-known/openid-configuration") in app.seen
        expect(card.locator("input[name=OidcAuthorizationEndpoint]")).to_have_value(DISCOVERY["authorization_endpoint"])
        expect(card.locator("input[name=OidcTokenEndpoint]")).to_have_value(DISCOVERY["token_endpoint"])
        expect(card.locator("input[name=OidcUserinfoEndpoint]")).to_have_value(DISCOVERY["userinfo_endpoint"])
        card.get_by_role("button", name="Save OIDC").click()
        expect(toast(page).filter(has_text="Saved")).to_be_visible()
        stored = {o["key"]: o["value"] for o in page.request.get("/api/option/").json()["data"]}
        assert stored["OidcWellKnown"] == f"{IDP}/.well-known/openid-configuration"
        assert [stored[k] for k in ("OidcAuthorizationEndpoint", "OidcTokenEndpoint", "OidcUserinfoEndpoint")] == [
            DISCOVERY["authorization_endpoint"],
            DISCOVERY["token_endpoint"],
            DISCOVERY["userinfo_endpoint"],
        ]

        card.locator("input[name=OidcWellKnown]").fill("http://127.0.0.1:9/.well-known/openid-configuration")
        fill.click()  # loopback is refused by the master, whatever the proxy
        expect(toast(page).filter(has_text="not resolve to a public address")).to_be_visible()
    finally:
        b.close()
