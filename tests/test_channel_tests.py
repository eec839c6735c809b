"""Channel tests (docs/one-api-compat.md §7.1): single test, batch run with auto-disable/enable, threshold,
one run at a time, the periodic loop."""

from __future__ import annotations

import asyncio
from typing import Any

import httpx
import pytest
from sqlalchemy import select

from master.db.schema import channels, logs
from master.monitors.channel_test import pick_model
from shared.relay import engine as engine_module
from tests.support.app import running_master
from tests.support.balance_upstream import wait_until
from tests.support.relay import add_channel, set_option, update_channel

TEST_PROMPT = "Output only your specific model name with no additional text."
REPLY = "Hello! This is the fake upstream answering your request."


async def channel_row(app: Any, channel_id: int) -> dict[str, Any]:
    async with app.state.ctx.store.main.connect() as conn:
        return dict((await conn.execute(select(channels).where(channels.c.id == channel_id))).one()._mapping)


async def type5_logs(app: Any, channel_id: int) -> list[dict[str, Any]]:
    query = select(logs).where(logs.c.type == 5, logs.c.channel_id == channel_id).order_by(logs.c.id)
    async with app.state.ctx.store.logs.connect() as conn:
        return [dict(r._mapping) for r in (await conn.execute(query)).all()]


async def run_batch(app: Any, client: httpx.AsyncClient, scope: str = "all") -> None:
    resp = await client.get(f"/api/channel/test?scope={scope}")
    assert resp.json() == {"success": True, "message": ""}
    tester = app.state.monitors.tester

    async def finished() -> bool:
        return not tester.running

    await wait_until(finished)


@pytest.fixture
async def sqlite_master(sqlite_database):
    async with running_master(sqlite_database.env()) as (app, client):
        resp = await client.post("/api/user/login", json={"username": "root", "password": "123456"})
        assert resp.json()["success"]
        yield app, client


def test_model_choice() -> None:
    models = "gpt-4o-mini,gpt-4o,claude-3"
    assert pick_model(models, "gpt-4o", {}) == "gpt-4o"
    assert pick_model(models, "", {}) == "gpt-4o-mini"  # gpt-3.5-turbo is not offered: first entry
    assert pick_model(models, "nope", {}) == "gpt-4o-mini"
    assert pick_model(models, "o-mi", {}) == "o-mi"  # One API's substring rule, kept as is
    assert pick_model("gpt-3.5-turbo,x", "", {}) == "gpt-3.5-turbo"
    assert pick_model(models, "claude-3", {"claude-3": "claude-3-opus"}) == "claude-3-opus"


async def test_single_test(master, root_client, fake_upstream) -> None:
    app, client = master
    cid = await add_channel(client, fake_upstream.url, name="good", model_mapping='{"gpt-4o-mini": "gpt-4o"}')
    resp = await client.get(f"/api/channel/test/{cid}?model=gpt-4o-mini")
    body = resp.json()
    assert body["success"] is True, body
    assert body["message"] == REPLY
    assert body["modelName"] == "gpt-4o-mini"
    assert 0 <= body["time"] < 10  # seconds, from whole ms: a local fake can answer within 1 ms
    sent = fake_upstream.last
    assert sent.path == "/v1/chat/completions"
    assert sent.key == "sk-upstream-good"
    assert sent.json() == {"model": "gpt-4o", "messages": [{"role": "user", "content": TEST_PROMPT}]}
    row = await channel_row(app, cid)
    assert row["response_time"] == int(body["time"] * 1000)
    assert row["test_time"] > 0
    rows = await type5_logs(app, cid)
    assert len(rows) == 1
    assert rows[0]["content"] == f"渠道 good 测试成功，响应：{REPLY}"
    assert rows[0]["model_name"] == "gpt-4o" and rows[0]["user_id"] == 0 and rows[0]["quota"] == 0

    # Failure: 401 from upstream.
    await set_option(client, "AutomaticDisableChannelEnabled", "true")
    cid = await add_channel(client, fake_upstream.url, name="bad", key="sk-bad")
    fake_upstream.behaviour_for_key("sk-bad", "401")
    body = (await client.get(f"/api/channel/test/{cid}")).json()
    assert body["success"] is False
    assert body["message"].startswith("http status code: 401, error message: Incorrect API key provided.")
    assert body["time"] == 0 and body["modelName"] == ""
    row = await channel_row(app, cid)
    assert row["response_time"] == 0 and row["test_time"] > 0
    assert row["status"] == 1  # a single test never disables
    rows = await type5_logs(app, cid)
    assert rows[0]["content"] == f"渠道 bad 测试失败，错误：{body['message']}"
    assert rows[0]["model_name"] == "gpt-3.5-turbo"


async def test_single_test_edge_cases(sqlite_master, monkeypatch) -> None:
    app, client = sqlite_master
    real = engine_module.adaptor_for  # a type without an adaptor: Baidu's taken away here
    monkeypatch.setattr(engine_module, "adaptor_for", lambda type_id: None if type_id == 15 else real(type_id))
    assert (await client.get("/api/channel/test/999")).json() == {"success": False, "message": "record not found"}
    bad_id = (await client.get("/api/channel/test/abc")).json()
    assert bad_id == {"success": False, "message": 'strconv.Atoi: parsing "abc": invalid syntax'}
    cid = await add_channel(client, "http://127.0.0.1:9", name="baidu", type=15, models="ERNIE-4.0")
    body = (await client.get(f"/api/channel/test/{cid}")).json()
    assert body["success"] is False and "not supported yet" in body["message"]


async def test_upstream_unreachable_and_error_body(sqlite_master, fake_upstream) -> None:
    app, client = sqlite_master
    cid = await add_channel(client, "http://127.0.0.1:9", name="down")
    body = (await client.get(f"/api/channel/test/{cid}")).json()
    assert body["success"] is False and body["message"].startswith("do request failed")
    cid = await add_channel(client, fake_upstream.url, name="err200")
    fake_upstream.fail_next("/v1/chat/completions", "error200")
    body = (await client.get(f"/api/channel/test/{cid}")).json()
    assert body == {"success": False, "message": "The engine is currently overloaded (fake).", "time": 0, "modelName": ""}


async def test_batch_disables_only_with_option(master, root_client, fake_upstream) -> None:
    app, client = master
    good = await add_channel(client, fake_upstream.url, name="good")
    bad = await add_channel(client, fake_upstream.url, name="bad", key="sk-bad")
    fake_upstream.behaviour_for_key("sk-bad", "401")
    await run_batch(app, client)
    assert (await channel_row(app, bad))["status"] == 1  # option off: nothing happens
    await set_option(client, "AutomaticDisableChannelEnabled", "true")
    await run_batch(app, client)
    bad_row, good_row = await channel_row(app, bad), await channel_row(app, good)
    assert bad_row["status"] == 3
    assert good_row["status"] == 1 and good_row["test_time"] > 0 and good_row["response_time"] >= 0
    assert bad_row["test_time"] > 0  # the batch writes the time on failure too
    assert len(await type5_logs(app, bad)) == 2
    # The relay stops routing to it at once.
    assert bad not in [c.id for c in app.state.relay.engine.candidates("default", "gpt-3.5-turbo")]


async def test_batch_auto_enable(sqlite_master, fake_upstream) -> None:
    app, client = sqlite_master
    manual = await add_channel(client, fake_upstream.url, name="manual")
    await update_channel(client, manual, status=2)
    broken = await add_channel(client, fake_upstream.url, name="broken", key="sk-broken")
    await update_channel(client, broken, status=3)
    fake_upstream.behaviour_for_key("sk-broken", "500")
    await run_batch(app, client, "disabled")
    assert (await channel_row(app, manual))["status"] == 2  # option off
    await set_option(client, "AutomaticEnableChannelEnabled", "true")
    await run_batch(app, client, "disabled")
    assert (await channel_row(app, manual))["status"] == 1  # manually disabled channels come back too
    assert (await channel_row(app, broken))["status"] == 3  # its test failed
    assert manual in [c.id for c in app.state.relay.engine.candidates("default", "gpt-3.5-turbo")]


async def test_batch_threshold_disable(sqlite_master, fake_upstream) -> None:
    app, client = sqlite_master
    await set_option(client, "ChannelDisableThreshold", "0.05")
    slow = await add_channel(client, fake_upstream.url, name="slow", key="sk-slow")
    fast = await add_channel(client, fake_upstream.url, name="fast")
    fake_upstream.behaviour_for_key("sk-slow", "slow", delay=0.3)
    await run_batch(app, client)
    assert (await channel_row(app, slow))["status"] == 1  # AutomaticDisableChannelEnabled off
    await set_option(client, "AutomaticDisableChannelEnabled", "true")
    await run_batch(app, client)
    assert (await channel_row(app, slow))["status"] == 3
    assert (await channel_row(app, fast))["status"] == 1
    assert (await channel_row(app, slow))["response_time"] >= 300


async def test_one_run_at_a_time(sqlite_master, fake_upstream) -> None:
    app, client = sqlite_master
    await add_channel(client, fake_upstream.url, name="slow", key="sk-slow")
    fake_upstream.behaviour_for_key("sk-slow", "slow", delay=0.5)
    first = (await client.get("/api/channel/test")).json()
    assert first == {"success": True, "message": ""}
    second = (await client.get("/api/channel/test?scope=disabled")).json()
    assert second == {"success": False, "message": "测试已在运行中"}
    tester = app.state.monitors.tester

    async def finished() -> bool:
        return not tester.running

    await wait_until(finished)
    assert (await client.get("/api/channel/test")).json()["success"] is True
    await wait_until(finished)


async def test_periodic_loop(sqlite_master, fake_upstream) -> None:
    app, client = sqlite_master
    cid = await add_channel(client, fake_upstream.url, name="tick")
    monitors = app.state.monitors
    task = monitors.spawn(monitors.tester.periodic(0.05), "test-loop")

    async def tested_twice() -> bool:
        return len(await type5_logs(app, cid)) >= 2

    try:
        await wait_until(tested_twice)
    finally:
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)
    assert (await channel_row(app, cid))["test_time"] > 0


async def test_requires_admin(sqlite_database) -> None:
    async with running_master(sqlite_database.env()) as (app, client):
        for path in ("/api/channel/test", "/api/channel/test/1", "/api/channel/update_balance", "/api/channel/update_balance/1"):
            resp = await client.get(path)
            assert resp.status_code == 401 and resp.json()["success"] is False
