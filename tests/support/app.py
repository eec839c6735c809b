"""Run a real master app in-process (real database, real lifespan) and talk to it over ASGI."""

from __future__ import annotations

from contextlib import asynccontextmanager
from typing import AsyncIterator

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
