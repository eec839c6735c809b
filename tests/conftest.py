"""Fixtures shared by every test: real services, a fresh database per test, a running master."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest

from shared.logs import setup_logging
from tests.support.app import running_master
from tests.support.services import FreshDatabase

pytest_plugins = ["tests.fake_upstream.fixture"]

BACKENDS = ["sqlite", "postgres", "mysql"]


def pytest_sessionstart(session: pytest.Session) -> None:
    setup_logging("", False, False)


# The kinds of test, for `-m`: `make test-unit` runs `unit` alone with TEST_SERVICES=off, so a test
# that reaches PostgreSQL, MariaDB or Redis without the `db` marker fails there instead of passing here.
KINDS = ("db", "cluster", "browser")
BROWSER_FIXTURES = {"browser", "browsing", "master_url"}


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    for item in items:
        parts = item.path.parts
        if "cluster" in parts:
            item.add_marker(pytest.mark.cluster)
        elif "browser" in parts and BROWSER_FIXTURES & set(getattr(item, "fixturenames", ())):
            item.add_marker(pytest.mark.browser)
        callspec = getattr(item, "callspec", None)
        if callspec is not None and callspec.params.get("database") in ("postgres", "mysql"):
            item.add_marker(pytest.mark.db)
        if not any(item.get_closest_marker(kind) for kind in KINDS):
            item.add_marker(pytest.mark.unit)


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    FreshDatabase.drop_all()


@pytest.fixture(params=BACKENDS)
def database(request: pytest.FixtureRequest, tmp_path: Path) -> FreshDatabase:
    """A fresh database on each backend in turn (tests using it run three times)."""
    db = FreshDatabase(request.param, tmp_path)
    yield db
    db.drop()


@pytest.fixture
def sqlite_database(tmp_path: Path) -> FreshDatabase:
    """A fresh SQLite database, for tests whose subject does not depend on the backend."""
    db = FreshDatabase("sqlite", tmp_path)
    yield db
    db.drop()


@pytest.fixture
def master_env() -> dict[str, str]:
    """Extra environment for the master under test; override in a module to change settings."""
    return {}


@pytest.fixture
async def master(database: FreshDatabase, master_env: dict[str, str]) -> AsyncIterator[tuple[object, httpx.AsyncClient]]:
    async with running_master({**database.env(), **master_env}) as pair:
        yield pair


@pytest.fixture
async def client(master: tuple[object, httpx.AsyncClient]) -> httpx.AsyncClient:
    """An anonymous client of a master on each backend."""
    return master[1]


@pytest.fixture
async def root_client(client: httpx.AsyncClient) -> httpx.AsyncClient:
    """The same client, logged in as root/123456 by session cookie."""
    resp = await client.post("/api/user/login", json={"username": "root", "password": "123456"})
    assert resp.json()["success"], resp.text
    return client
