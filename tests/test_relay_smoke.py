from __future__ import annotations

import httpx

from tests.fake_upstream.fixture import fake_upstream, fake_upstream_server  # noqa: F401
from tests.support.relay import add_channel, add_token, bearer


async def test_chat_roundtrip(sqlite_database, fake_upstream) -> None:
    from tests.support.app import running_master

    async with running_master(sqlite_database.env()) as (app, client):
        await client.post("/api/user/login", json={"username": "root", "password": "123456"})
        await add_channel(client, fake_upstream.url)
        token = await add_token(client)
        resp = await client.post("/v1/chat/completions", headers=bearer(token), json={"model": "gpt-3.5-turbo", "messages": [{"role": "user", "content": "hi"}]})
        print(resp.status_code, resp.text)
        assert resp.status_code == 200
        resp = await client.post("/v1/chat/completions", headers=bearer(token), json={"model": "gpt-3.5-turbo", "stream": True, "messages": [{"role": "user", "content": "hi"}]})
        print(resp.status_code, resp.text)
        await app.state.relay.flush()
        logs = (await client.get("/api/log/?p=0")).json()
        print(logs)
