"""Success-rate based disabling (docs/one-api-compat.md §7.3)."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select

from master.db.schema import channels
from master.monitors.metric import MetricWindow
from tests.support.app import running_master
from tests.support.balance_upstream import wait_until
from tests.support.relay import add_channel, add_token, bearer

CHAT = {"model": "gpt-3.5-turbo", "messages": [{"role": "user", "content": "hi"}]}


def test_window_rules() -> None:
    disabled: list[tuple[int, float]] = []
    window = MetricWindow(4, 0.8, lambda cid, rate: disabled.append((cid, rate)))
    for _ in range(5):
        window.record(1, True)
    assert window.store[1] == [True] * 5  # the window holds size + 1 entries
    window.record(1, False)  # drops one: [T, T, T, T, F], rate 0.8 is not below 0.8
    assert disabled == [] and len(window.store[1]) == 5
    window.record(1, False)  # [T, T, T, F, F], rate 0.6
    assert disabled == [(1, 0.6)] and window.store[1] == []
    for _ in range(3):
        window.record(2, False)  # fewer than 4 results: never disables
    assert [cid for cid, _ in disabled] == [1]
    window.record(2, False, disabled_already=True)  # auto-disabled by the rule: not counted
    assert len(window.store[2]) == 3
    window.record(2, False)
    assert disabled[-1] == (2, 0.0)


async def channel_status(app: Any, channel_id: int) -> int:
    async with app.state.ctx.store.main.connect() as conn:
        return (await conn.execute(select(channels.c.status).where(channels.c.id == channel_id))).scalar_one()


async def test_relay_results_disable_a_channel(sqlite_database, fake_upstream) -> None:
    env = {**sqlite_database.env(), "ENABLE_METRIC": "true", "METRIC_QUEUE_SIZE": "4"}
    async with running_master(env) as (app, client):
        await client.post("/api/user/login", json={"username": "root", "password": "123456"})
        cid = await add_channel(client, fake_upstream.url)
        token = await add_token(client)
        for _ in range(2):
            assert (await client.post("/v1/chat/completions", headers=bearer(token), json=CHAT)).status_code == 200
        fake_upstream.fail_next("/v1/chat/completions", "400", count=2)
        assert (await client.post("/v1/chat/completions", headers=bearer(token), json=CHAT)).status_code == 400
        assert app.state.monitors.metric.store[cid] == [True, True, False]
        assert await channel_status(app, cid) == 1
        assert (await client.post("/v1/chat/completions", headers=bearer(token), json=CHAT)).status_code == 400

        async def disabled() -> bool:
            return await channel_status(app, cid) == 3

        await wait_until(disabled)
        assert app.state.monitors.metric.store[cid] == []
        resp = await client.post("/v1/chat/completions", headers=bearer(token), json=CHAT)
        assert resp.status_code == 503  # no channel left for the model


async def test_metric_off_by_default(sqlite_database, fake_upstream) -> None:
    async with running_master(sqlite_database.env()) as (app, client):
        await client.post("/api/user/login", json={"username": "root", "password": "123456"})
        cid = await add_channel(client, fake_upstream.url)
        token = await add_token(client)
        fake_upstream.fail_next("/v1/chat/completions", "400", count=5)
        for _ in range(5):
            assert (await client.post("/v1/chat/completions", headers=bearer(token), json=CHAT)).status_code == 400
        assert app.state.monitors.metric is None
        assert await channel_status(app, cid) == 1
