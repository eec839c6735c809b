"""Channel balances (docs/one-api-compat.md §7.2) against a local provider stand-in."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import select

from master.db.schema import channels
from shared.settings import SettingsError, build_settings
from tests.support.app import running_master
from tests.support.balance_upstream import LocalUpstream, wait_until
from tests.support.relay import add_channel, set_option


@pytest.fixture(scope="module")
def provider_server() -> Iterator[LocalUpstream]:
    with LocalUpstream() as server:
        yield server


@pytest.fixture
def provider(provider_server: LocalUpstream) -> LocalUpstream:
    provider_server.reset()
    return provider_server


async def channel_row(app: Any, channel_id: int) -> dict[str, Any]:
    async with app.state.ctx.store.main.connect() as conn:
        return dict((await conn.execute(select(channels).where(channels.c.id == channel_id))).one()._mapping)


def openai_answers(provider: LocalUpstream, has_payment_method: bool = True) -> None:
    provider.answer("/v1/dashboard/billing/subscription", {"has_payment_method": has_payment_method, "hard_limit_usd": 100})
    provider.answer("/v1/dashboard/billing/usage", {"total_usage": 2550.0})


async def test_openai_balance(master, root_client, provider) -> None:
    app, client = master
    openai_answers(provider)
    cid = await add_channel(client, provider.url, name="oa", key="sk-oa")
    body = (await client.get(f"/api/channel/update_balance/{cid}")).json()
    assert body == {"success": True, "message": "", "balance": 74.5}
    row = await channel_row(app, cid)
    assert row["balance"] == pytest.approx(74.5) and row["balance_updated_time"] > 0
    listed = (await client.get(f"/api/channel/{cid}")).json()["data"]
    assert listed["balance"] == pytest.approx(74.5)
    subscription, usage = provider.requests
    assert subscription.headers["authorization"] == "Bearer sk-oa"
    today = datetime.now()
    assert usage.query == {"start_date": today.strftime("%Y-%m-01"), "end_date": today.strftime("%Y-%m-%d")}


async def test_openai_balance_without_payment_method_and_errors(sqlite_database, provider) -> None:
    async with running_master(sqlite_database.env()) as (app, client):
        await client.post("/api/user/login", json={"username": "root", "password": "123456"})
        openai_answers(provider, has_payment_method=False)
        cid = await add_channel(client, provider.url, name="custom", type=8)
        assert (await client.get(f"/api/channel/update_balance/{cid}")).json()["balance"] == 74.5
        start = (datetime.now() - timedelta(days=100)).strftime("%Y-%m-%d")
        assert provider.requests[-1].query["start_date"] == start
        provider.answer("/v1/dashboard/billing/usage", {"error": "no"}, status=401)
        body = (await client.get(f"/api/channel/update_balance/{cid}")).json()
        assert body == {"success": False, "message": "status code: 401"}
        azure = await add_channel(client, provider.url, name="az", type=3)
        assert (await client.get(f"/api/channel/update_balance/{azure}")).json() == {"success": False, "message": "尚未实现"}
        assert (await client.get("/api/channel/update_balance/999")).json() == {"success": False, "message": "record not found"}


PROVIDERS = [
    # (type, path, answer, balance)
    (4, "/dashboard/billing/credit_grants", {"total_available": 12.5}, 12.5),
    (5, "/sb-api/user/status", {"data": {"credit": "33.25"}}, 33.25),
    (10, "/api/report/getUserOverview", {"success": True, "data": {"totalPoints": 7.0}}, 7.0),
    (12, "/dashboard/billing/credit_grants", {"total_remaining": 8.5}, 8.5),
    (13, "/dashboard/billing/credit_grants", {"total_available": 9.5}, 9.5),
    (44, "/v1/user/info", {"code": 20000, "data": {"totalBalance": "15.5"}}, 15.5),
    (
        36,
        "/user/balance",
        {"balance_infos": [{"currency": "USD", "total_balance": "1"}, {"currency": "CNY", "total_balance": "110.00"}]},
        110.0,
    ),
    (20, "/v1/credits", {"data": {"total_credits": 50, "total_usage": 12.5}}, 37.5),
]


async def test_other_providers(sqlite_database, provider) -> None:
    async with running_master(sqlite_database.env()) as (app, client):
        await client.post("/api/user/login", json={"username": "root", "password": "123456"})
        for ctype, path, answer, expected in PROVIDERS:
            provider.reset()
            provider.answer(path, answer)
            cid = await add_channel(client, provider.url, name=f"t{ctype}", type=ctype, key=f"sk-{ctype}")
            body = (await client.get(f"/api/channel/update_balance/{cid}")).json()
            assert body == {"success": True, "message": "", "balance": expected}, (ctype, body)
            seen = provider.requests[-1]
            if ctype == 10:
                assert seen.headers["api-key"] == "sk-10"
            else:
                assert seen.headers["authorization"] == f"Bearer sk-{ctype}"
            if ctype == 5:
                assert seen.query == {"api_key": "sk-5"}
        # Provider-reported failures.
        provider.answer("/user/balance", {"balance_infos": [{"currency": "USD", "total_balance": "1"}]})
        deepseek = await add_channel(client, provider.url, name="ds", type=36)
        assert (await client.get(f"/api/channel/update_balance/{deepseek}")).json()["message"] == "currency CNY not found"
        provider.answer("/v1/user/info", {"code": 40001, "message": "bad key"})
        silicon = await add_channel(client, provider.url, name="sf", type=44)
        body = (await client.get(f"/api/channel/update_balance/{silicon}")).json()
        assert body == {"success": False, "message": "code: 40001, message: bad key"}
        provider.answer("/sb-api/user/status", {"msg": "invalid key"})
        sb = await add_channel(client, provider.url, name="sb", type=5)
        assert (await client.get(f"/api/channel/update_balance/{sb}")).json() == {"success": False, "message": "invalid key"}


async def test_update_all_in_background(sqlite_database, provider) -> None:
    async with running_master(sqlite_database.env()) as (app, client):
        await client.post("/api/user/login", json={"username": "root", "password": "123456"})
        openai_answers(provider)
        provider.answer("/dashboard/billing/credit_grants", {"total_available": 3.0})
        first = await add_channel(client, provider.url, name="a")
        second = await add_channel(client, provider.url, name="b", type=4)
        disabled = await add_channel(client, provider.url, name="c", type=4)
        await client.put("/api/channel/", json={"id": disabled, "status": 2})
        assert (await client.get("/api/channel/update_balance")).json() == {"success": True, "message": ""}

        async def done() -> bool:
            return not app.state.monitors.balances.running

        await wait_until(done)
        assert (await channel_row(app, first))["balance"] == pytest.approx(74.5)
        assert (await channel_row(app, second))["balance"] == pytest.approx(3.0)
        assert not (await channel_row(app, disabled))["balance_updated_time"]
        # An exhausted OpenAI account is disabled when automatic disabling is on.
        await set_option(client, "AutomaticDisableChannelEnabled", "true")
        provider.answer("/v1/dashboard/billing/usage", {"total_usage": 10000.0})
        assert (await client.get("/api/channel/update_balance")).json()["success"] is True
        await wait_until(done)
        assert (await channel_row(app, first))["status"] == 3
        assert (await channel_row(app, second))["status"] == 1


async def test_channel_update_frequency_refreshes_balances(sqlite_database, provider) -> None:
    """CHANNEL_UPDATE_FREQUENCY (minutes; 0.002 = 0.12 s here) refreshes every enabled channel's
    balance on the master, again each period, without anyone asking."""
    env = {**sqlite_database.env(), "CHANNEL_UPDATE_FREQUENCY": "0.002", "POLLING_INTERVAL": "0"}
    async with running_master(env) as (app, client):
        await client.post("/api/user/login", json={"username": "root", "password": "123456"})
        openai_answers(provider)
        provider.answer("/dashboard/billing/credit_grants", {"total_available": 3.0})
        first = await add_channel(client, provider.url, name="a")
        second = await add_channel(client, provider.url, name="b", type=4)
        disabled = await add_channel(client, provider.url, name="c", type=4, status=2)  # disabled from the start

        async def balances_are(expected: dict[int, float]) -> bool:
            rows = [await channel_row(app, cid) for cid in expected]
            return all(row["balance"] == pytest.approx(value) for row, value in zip(rows, expected.values(), strict=True))

        await wait_until(lambda: balances_are({first: 74.5, second: 3.0}))
        # The next period picks up what the provider says now.
        provider.answer("/dashboard/billing/credit_grants", {"total_available": 1.25})
        provider.answer("/v1/dashboard/billing/usage", {"total_usage": 5000.0})
        await wait_until(lambda: balances_are({first: 50.0, second: 1.25}))
        assert not (await channel_row(app, disabled))["balance_updated_time"]


async def test_channel_update_frequency_is_paced_by_polling_interval(sqlite_database, provider) -> None:
    """POLLING_INTERVAL seconds separate two channels of a run: with an hour of it, the run that
    updated the first channel is still waiting, the second untouched, and later ticks skip."""
    env = {**sqlite_database.env(), "CHANNEL_UPDATE_FREQUENCY": "0.002", "POLLING_INTERVAL": "3600"}
    async with running_master(env) as (app, client):
        await client.post("/api/user/login", json={"username": "root", "password": "123456"})
        provider.answer("/dashboard/billing/credit_grants", {"total_available": 3.0})
        first = await add_channel(client, provider.url, name="a", type=4)
        second = await add_channel(client, provider.url, name="b", type=4)

        async def first_updated() -> bool:
            return bool((await channel_row(app, first))["balance_updated_time"])

        await wait_until(first_updated)
        assert app.state.monitors.balances.running
        assert not (await channel_row(app, second))["balance_updated_time"]
        assert len(provider.requests) == 1


def test_channel_update_frequency_setting() -> None:
    assert build_settings({}).channel_update_frequency == 0
    assert build_settings({"CHANNEL_UPDATE_FREQUENCY": "30"}).channel_update_frequency == 30
    for bad in ("soon", "-1", "nan", "1e9"):
        with pytest.raises(SettingsError, match="CHANNEL_UPDATE_FREQUENCY"):
            build_settings({"CHANNEL_UPDATE_FREQUENCY": bad})
