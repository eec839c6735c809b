"""A running master with a fake upstream behind it, for the relay tests (tests/test_relay_*.py).

Setup goes through the management API, the way an operator would; assertions read the database
after `await app.state.relay.flush()` wrote the pending quota and logs.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Any

import httpx
import orjson
from sqlalchemy import select

from master.db.schema import channels, logs, tokens, users
from tests.fake_upstream.server import FakeUpstream
from tests.support.app import client_for, login, running_master
from tests.support.relay import add_channel, add_token, bearer, set_option

CHAT = [{"role": "user", "content": "Say hello to the relay tests."}]


@dataclass
class World:
    app: Any
    root: httpx.AsyncClient  # logged in as root (user id 1)
    fake: FakeUpstream

    @property
    def host(self) -> Any:
        return self.app.state.relay

    @property
    def engine(self) -> Any:
        return self.app.state.relay.engine

    async def flush(self) -> None:
        await self.host.flush()

    async def channel(self, base_url: str | None = None, **fields: Any) -> int:
        return await add_channel(self.root, self.fake.url if base_url is None else base_url, **fields)

    async def token(self, client: httpx.AsyncClient | None = None, **fields: Any) -> dict[str, Any]:
        return await add_token(client or self.root, **fields)

    async def option(self, key: str, value: str) -> None:
        await set_option(self.root, key, value)

    async def ratio(self, key: str, name: str, value: float) -> None:
        """Set one entry of a ratio option (ModelRatio, CompletionRatio, GroupRatio)."""
        listing = (await self.root.get("/api/option/")).json()["data"]
        current = orjson.loads(next(o["value"] for o in listing if o["key"] == key))
        current[name] = value
        await self.option(key, orjson.dumps(current).decode())

    async def user(self, username: str, quota: int = 0, group: str = "default") -> tuple[httpx.AsyncClient, int]:
        """A common user with `quota` and `group`; returns (logged-in client, user id)."""
        resp = await self.root.post("/api/user/", json={"username": username, "password": "password123", "display_name": username})
        assert resp.json()["success"], resp.text
        user_id = (await self.db_one(select(users.c.id).where(users.c.username == username)))["id"]
        if quota or group != "default":
            data = (await self.root.get(f"/api/user/{user_id}")).json()["data"]
            data.update({"quota": quota, "group": group, "password": ""})
            resp = await self.root.put("/api/user/", json=data)
            assert resp.json()["success"], resp.text
        client = client_for(self.app)
        await login(client, username, "password123")
        return client, user_id

    async def set_user(self, user_id: int, **fields: Any) -> None:
        data = (await self.root.get(f"/api/user/{user_id}")).json()["data"]
        data.update({**fields, "password": ""})
        resp = await self.root.put("/api/user/", json=data)
        assert resp.json()["success"], resp.text

    # -- reading the database ------------------------------------------------------------------

    async def db_one(self, query: Any, logs_db: bool = False) -> dict[str, Any]:
        store = self.host.ctx.store
        async with (store.logs if logs_db else store.main).connect() as conn:
            row = (await conn.execute(query)).mappings().first()
        assert row is not None, str(query)
        return dict(row)

    async def db_all(self, query: Any, logs_db: bool = False) -> list[dict[str, Any]]:
        store = self.host.ctx.store
        async with (store.logs if logs_db else store.main).connect() as conn:
            return [dict(r) for r in (await conn.execute(query)).mappings().all()]

    async def user_row(self, user_id: int) -> dict[str, Any]:
        return await self.db_one(select(users).where(users.c.id == user_id))

    async def token_row(self, token_id: int) -> dict[str, Any]:
        return await self.db_one(select(tokens).where(tokens.c.id == token_id))

    async def channel_row(self, channel_id: int) -> dict[str, Any]:
        return await self.db_one(select(channels).where(channels.c.id == channel_id))

    async def consume_logs(self) -> list[dict[str, Any]]:
        return await self.db_all(select(logs).where(logs.c.type == 2).order_by(logs.c.id), logs_db=True)

    async def wait_for(self, check: Callable[[], Awaitable[Any]], tries: int = 500) -> Any:
        """Flush and re-check until `check` returns something truthy (bounded; yields to the loop)."""
        for _ in range(tries):
            await self.flush()
            result = await check()
            if result:
                return result
            await asyncio.sleep(0.01)
        raise AssertionError("condition not reached")

    # -- relay calls -------------------------------------------------------------------------------

    async def chat(self, token: dict[str, Any], suffix: str = "", **body: Any) -> httpx.Response:
        payload = {"model": "gpt-3.5-turbo", "messages": CHAT, **body}
        return await self.root.post("/v1/chat/completions", headers=bearer(token, suffix), json=payload)


@asynccontextmanager
async def relay_world(database: Any, fake: FakeUpstream, env: dict[str, str] | None = None) -> AsyncIterator[World]:
    async with running_master({**database.env(), **(env or {})}) as (app, client):
        resp = await client.post("/api/user/login", json={"username": "root", "password": "123456"})
        assert resp.json()["success"], resp.text
        yield World(app, client, fake)


def error_of(resp: httpx.Response) -> dict[str, Any]:
    body = resp.json()
    assert set(body) == {"error"}, body
    return body["error"]


def with_request_id(resp: httpx.Response, message: str) -> str:
    return f"{message} (request id: {resp.headers['x-oneapi-request-id']})"


def sse_payloads(text: str) -> list[str]:
    return [line[len("data: ") :] for line in text.splitlines() if line.startswith("data: ")]


def bearer_key(key: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {key}"}


__all__ = ["CHAT", "World", "relay_world", "error_of", "with_request_id", "sse_payloads", "bearer", "bearer_key"]
