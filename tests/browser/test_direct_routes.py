"""Every console route opened directly (a bookmark, a reload), as a new user would: on a master, and
through haproxy (deploy/haproxy.cfg) in front of that master and a slave whose FRONTEND_BASE_URL is
the load balancer. Only /v1 and /dashboard/billing/* may reach the relay; /dashboard is a page."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import expect

from tests.browser.conftest import ROOT, Browsing, login
from tests.cluster.harness import Balancer, Node, free_port, master_env, slave_env
from tests.support.services import FreshDatabase

PARAMS = {"id": "1", "provider": "github"}


def console_routes() -> list[str]:
    """The client-side routes of web/src/routes.js, with sample values for their parameters."""
    source = (ROOT / "web" / "src" / "routes.js").read_text()
    paths = re.findall(r"path: '([^']+)'", source)
    assert "/dashboard" in paths and len(paths) > 20
    return [re.sub(r":(\w+)", lambda m: PARAMS[m.group(1)], p) for p in paths]


class Fleet:
    def __init__(self, master: Node, slave: Node, balancer: Balancer) -> None:
        self.master, self.slave, self.balancer = master, slave, balancer


@pytest.fixture(scope="module")
def fleet(console_built: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Fleet]:
    """master (SQLite) + slave + haproxy, real processes, stopped at the end."""
    tmp = tmp_path_factory.mktemp("direct-routes")
    db = FreshDatabase("sqlite", tmp)
    grpc_port, slave_port = free_port(), free_port()
    master = Node("master", master_env("", grpc_port, None, SQLITE_PATH=db.sqlite_path), tmp)
    balancer = Balancer(tmp, master.port, (slave_port, slave_port))
    slave = Node("slave", slave_env(grpc_port, None, tmp / "spool", "slave-1", FRONTEND_BASE_URL=balancer.url), tmp, port=slave_port)
    started: list[object] = []
    try:
        started.append(master.launch())
        started.append(slave.launch())
        master.wait(), slave.wait()
        started.append(balancer.start())
        balancer.wait_up(("master", "master"), ("slaves", "slave1"), ("slaves", "slave2"))
        yield Fleet(master, slave, balancer)
    finally:
        for proc in reversed(started):
            proc.stop()
        db.drop()


def open_every_route(browser: object, base: str, name: str) -> None:
    b = Browsing(browser, base, name)
    try:
        page = b.page()
        login(page, "root", "123456")
        for path in console_routes():
            response = page.goto(path)
            assert response is not None and response.status == 200, (base, path, response and response.status)
            assert response.headers["content-type"].startswith("text/html"), (base, path)
            assert page.url == base + path, (base, path)
            expect(page.locator("header.topbar .whoami")).to_be_visible()  # the console, logged in
            expect(page.get_by_role("heading", name="Page not found")).to_have_count(0)
            expect(page.get_by_test_id("forbidden")).to_have_count(0)
        page.goto("/dashboard")
        page.reload()  # a reload of the dashboard stays the dashboard
        expect(page.get_by_role("link", name="Dashboard")).to_have_class(re.compile("active"))
        billing = page.request.get("/dashboard/billing/subscription")  # no key: the relay's own 401
        assert billing.status == 401 and billing.json()["error"]["type"]
    finally:
        b.close()


def test_every_console_route_opens_directly_on_the_master(browser, fleet: Fleet) -> None:
    open_every_route(browser, fleet.master.url, "direct-routes-master")


def test_every_console_route_opens_through_the_load_balancer(browser, fleet: Fleet) -> None:
    open_every_route(browser, fleet.balancer.url, "direct-routes-balancer")


def test_a_page_asked_of_the_slave_lands_on_the_console(browser, fleet: Fleet) -> None:
    b = Browsing(browser, fleet.slave.url, "direct-routes-slave")
    try:
        page = b.page()
        response = page.goto("/dashboard?from=bookmark")
        assert response is not None and response.status == 200
        assert response.url == fleet.balancer.url + "/dashboard?from=bookmark"  # FRONTEND_BASE_URL, then the master
        expect(page.get_by_role("heading", name="Log in")).to_be_visible()  # the console asks for a login...
        assert page.url == fleet.balancer.url + "/login?next=%2Fdashboard%3Ffrom%3Dbookmark"  # ...and comes back
        billing = page.request.get(fleet.slave.url + "/dashboard/billing/usage", max_redirects=0)
        assert billing.status == 401 and billing.json()["error"]["type"]  # the slave's relay, not a redirect
    finally:
        b.close()
