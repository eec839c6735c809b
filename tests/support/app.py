"""Run a real master app in-process (real database, real lifespan) and talk to it over ASGI."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import httpx

from master.app import create_app
from shared.settings import build_settings


@asynccontextmanager
async def running_master(env: dict[str, str]) -> AsyncIterator[tuple[object, httpx.AsyncClient]]:
    """Start a master with `env` (plus test defaults) and yield (app, client)."""
    full = {"SESSION_SECRET": "test-secret", "GLOBAL_API_RATE_LIMIT": "0", "GLOBAL_WEB_RATE_LIMIT": "0", **env}
    settings = build_settings(full, log_dir_flag="")
    app = create_app(settings)
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app, client=("127.0.0.1", 40000))
        async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as client:
            yield app, client


async def login(client: httpx.AsyncClient, username: str, password: str) -> httpx.Response:
    resp = await client.post("/api/user/login", json={"username": username, "password": password})
    assert resp.status_code == 200, resp.text
    return resp


def client_for(app: object) -> httpx.AsyncClient:
    """Another client (its own cookie jar) of the same running app; close it with `aclose()`."""
    transport = httpx.ASGITransport(app=app, client=("127.0.0.1", 40001))
    return httpx.AsyncClient(transport=transport, base_url="http://testserver")


async def make_user(root: httpx.AsyncClient, app: object, username: str, password: str = "password123") -> httpx.AsyncClient:
    """Create a common user through the admin API and return a client logged in as that user."""
    resp = await root.post("/api/user/", json={"username": username, "password": password, "display_name": username})
    assert resp.json()["success"], resp.text
    user = client_for(app)
    await login(user, username, password)
    return user
