"""Relay token management of docs/one-api-compat.md §4.8 (UserAuth, scoped to the caller), on every backend."""

from __future__ import annotations

import time
from collections.abc import AsyncIterator

import httpx
import pytest
from sqlalchemy import select, update

from master.db.schema import tokens
from tests.support.access import add_user, client_as

TOKEN_KEYS = {
    "id",
    "user_id",
    "key",
    "status",
    "name",
    "created_time",
    "accessed_time",
    "expired_time",
    "remain_quota",
    "unlimited_quota",
    "used_quota",
    "models",
    "subnet",
    "rpm_limit",
    "tpm_limit",
    "max_parallel_requests",  # ours (rate limits); One API's console ignores them
}


@pytest.fixture
async def alice(master: tuple[object, httpx.AsyncClient]) -> AsyncIterator[httpx.AsyncClient]:
    app = master[0]
    await add_user(app, "alice")
    client = await client_as(app, "alice")
    yield client
    await client.aclose()


@pytest.fixture
async def bob(master: tuple[object, httpx.AsyncClient]) -> AsyncIterator[httpx.AsyncClient]:
    app = master[0]
    await add_user(app, "bob")
    client = await client_as(app, "bob")
    yield client
    await client.aclose()


async def create(client: httpx.AsyncClient, **fields: object) -> dict:
    body = (await client.post("/api/token/", json={"name": "t", **fields})).json()
    assert body["success"] is True, body
    return body["data"]


async def set_columns(app: object, token_id: int, **values: object) -> None:
    async with app.state.ctx.store.main.begin() as conn:  # type: ignore[attr-defined]
        await conn.execute(update(tokens).where(tokens.c.id == token_id).values(**values))


async def test_create_applies_insert_defaults_and_returns_the_key(
    master: tuple[object, httpx.AsyncClient], alice: httpx.AsyncClient
) -> None:
    before = master[0].state.ctx.config_version  # type: ignore[attr-defined]
    started = int(time.time())
    data = await create(alice, name="mine", expired_time=0, remain_quota=500000, unlimited_quota=False)
    assert set(data) == TOKEN_KEYS
    assert len(data["key"]) == 48 and "-" not in data["key"]
    assert data["status"] == 1 and data["expired_time"] == -1 and data["used_quota"] == 0
    assert data["remain_quota"] == 500000 and data["unlimited_quota"] is False
    assert data["models"] is None and data["subnet"] == ""
    assert data["created_time"] >= started and data["accessed_time"] == data["created_time"]
    assert master[0].state.ctx.config_version > before  # type: ignore[attr-defined]
    got = (await alice.get(f"/api/token/{data['id']}")).json()
    assert got == {"success": True, "message": "", "data": data}

    kept = await create(alice, name="x", expired_time=1999999999, models="gpt-4,gpt-3.5-turbo", subnet="10.0.0.0/8")
    assert kept["expired_time"] == 1999999999
    assert kept["models"] == "gpt-4,gpt-3.5-turbo" and kept["subnet"] == "10.0.0.0/8"


async def test_validation_and_malformed_input(alice: httpx.AsyncClient) -> None:
    long_name = (await alice.post("/api/token/", json={"name": "a" * 31})).json()
    assert long_name == {"success": False, "message": "参数错误：令牌名称过长"}
    # 11 CJK characters are 33 bytes: One API counts bytes.
    assert (await alice.post("/api/token/", json={"name": "令" * 11})).json()["message"] == "参数错误：令牌名称过长"
    assert (await create(alice, name="a" * 30))["name"] == "a" * 30

    bad = (await alice.post("/api/token/", json={"name": "n", "subnet": "10.0.0.0/8, 192.168.1.1"})).json()
    assert bad == {
        "success": False,
        "message": "参数错误：无效的网段：failed to parse subnet: invalid CIDR address: 192.168.1.1",
    }
    for wrong in ("10.0.0.0/33", "300.1.1.1/8", "::1/129", "10.0.0.0/", "10.0.0.0/8,"):
        resp = (await alice.post("/api/token/", json={"name": "n", "subnet": wrong})).json()
        assert resp["success"] is False and resp["message"].startswith("参数错误：无效的网段："), wrong
    ok = await create(alice, subnet="10.0.0.1/8, ::1/128,192.168.0.0/16")
    assert ok["subnet"] == "10.0.0.1/8, ::1/128,192.168.0.0/16"

    for raw in (
        b"{",
        b"[]",
        b'"x"',
        b'{"name": 5}',
        b'{"remain_quota": "1"}',
        b'{"remain_quota": 1.5}',
        b'{"unlimited_quota": 1}',
        b'{"models": []}',
    ):
        for method in ("POST", "PUT"):
            resp = await alice.request(method, "/api/token/", content=raw)
            assert resp.status_code == 200
            assert resp.json() == {"success": False, "message": "invalid parameter"}, (method, raw)
    zh = await alice.post("/api/token/", content=b"nope", headers={"Accept-Language": "zh-CN,zh"})
    assert zh.json()["message"] == "无效的参数"
    assert (await alice.get("/api/token/abc")).json() == {
        "success": False,
        "message": 'strconv.Atoi: parsing "abc": invalid syntax',
    }
    assert (await alice.get("/api/token/0")).json()["message"] == "id 或 userId 为空！"
    assert (await alice.get("/api/token/99999999999")).json()["message"] == "record not found"
    assert (await alice.delete("/api/token/abc")).json()["message"] == "id 或 userId 为空！"
    assert (await alice.put("/api/token/", json={"name": "x"})).json()["message"] == "id 或 userId 为空！"
    # null leaves Go's zero value; unknown and case-folded keys bind like encoding/json.
    data = await create(alice, Name="Folded", models=None, subnet=None, extra=[1])
    assert data["name"] == "Folded" and data["subnet"] == ""
    # PostgreSQL refuses NUL bytes: the driver's error comes back as a business error, not a 500.
    for resp in (await alice.get("/api/token/search?keyword=%00"), await alice.post("/api/token/", json={"name": "a\u0000b"})):
        assert resp.status_code == 200 and isinstance(resp.json()["success"], bool)


async def test_auth_and_isolation(client: httpx.AsyncClient, alice: httpx.AsyncClient, bob: httpx.AsyncClient) -> None:
    mine = await create(alice, name="shared-prefix-a")
    theirs = await create(bob, name="shared-prefix-b")
    listed = (await alice.get("/api/token/")).json()["data"]
    assert [t["id"] for t in listed] == [mine["id"]]
    found = (await alice.get("/api/token/search", params={"keyword": "shared"})).json()["data"]
    assert [t["name"] for t in found] == ["shared-prefix-a"]
    not_found = {"success": False, "message": "record not found"}
    assert (await alice.get(f"/api/token/{theirs['id']}")).json() == not_found
    assert (await alice.put("/api/token/", json={"id": theirs["id"], "name": "stolen"})).json() == not_found
    assert (await alice.delete(f"/api/token/{theirs['id']}")).json() == not_found
    assert (await bob.get(f"/api/token/{theirs['id']}")).json()["data"]["name"] == "shared-prefix-b"

    resp = await client.get("/api/token/")
    assert resp.status_code == 401
    assert resp.json() == {"success": False, "message": "无权进行此操作，未登录且未提供 access token"}
    resp = await client.get("/api/token/", headers={"Authorization": "Bearer nope"})
    assert resp.status_code == 200
    assert resp.json() == {"success": False, "message": "无权进行此操作，access token 无效"}


async def test_pagination_and_order(master: tuple[object, httpx.AsyncClient], alice: httpx.AsyncClient) -> None:
    app = master[0]
    created = [await create(alice, name=f"tok{i:02d}", remain_quota=i * 10) for i in range(12)]
    ids = [t["id"] for t in created]
    first = (await alice.get("/api/token/", params={"p": 0})).json()["data"]
    second = (await alice.get("/api/token/", params={"p": 1})).json()["data"]
    assert [t["id"] for t in first] == sorted(ids, reverse=True)[:10]
    assert [t["id"] for t in second] == sorted(ids, reverse=True)[10:]
    assert all(set(t) == TOKEN_KEYS and t["key"] for t in first)
    for odd in ("-3", "x"):
        assert (await alice.get("/api/token/", params={"p": odd})).json()["data"] == first
    assert (await alice.get("/api/token/", params={"p": 5})).json() == {"success": True, "message": "", "data": []}

    await set_columns(app, ids[0], unlimited_quota=True)
    await set_columns(app, ids[3], used_quota=999)
    await set_columns(app, ids[5], used_quota=500)
    by_remain = (await alice.get("/api/token/", params={"order": "remain_quota"})).json()["data"]
    assert [t["id"] for t in by_remain] == [ids[0], *[ids[i] for i in range(11, 2, -1)]]
    by_used = (await alice.get("/api/token/", params={"order": "used_quota"})).json()["data"]
    assert [t["id"] for t in by_used][:2] == [ids[3], ids[5]]

    found = (await alice.get("/api/token/search", params={"keyword": "tok1"})).json()["data"]
    assert sorted(t["name"] for t in found) == ["tok10", "tok11"]
    assert (await alice.get("/api/token/search", params={"keyword": "ok"})).json()["data"] == []


async def test_update_enable_rules_and_delete(master: tuple[object, httpx.AsyncClient], alice: httpx.AsyncClient) -> None:
    app = master[0]
    token = await create(alice, name="full", remain_quota=100, unlimited_quota=True, models="gpt-4", subnet="10.0.0.0/8")
    resp = (await alice.put("/api/token/", json={"id": token["id"], "name": "renamed", "status": 2})).json()
    assert resp["success"] is True
    data = resp["data"]
    assert data["name"] == "renamed" and data["status"] == 1  # status kept without status_only
    assert data["remain_quota"] == 0 and data["unlimited_quota"] is False and data["expired_time"] == 0
    assert data["models"] is None and data["subnet"] is None and data["key"] == token["key"]
    assert (await alice.get(f"/api/token/{token['id']}")).json()["data"] == data

    only = (await alice.put("/api/token/?status_only=1", json={"id": token["id"], "status": 2, "name": "ignored"})).json()
    assert only["data"]["status"] == 2 and only["data"]["name"] == "renamed"
    async with app.state.ctx.store.main.connect() as conn:  # type: ignore[attr-defined]
        row = (await conn.execute(select(tokens).where(tokens.c.id == token["id"]))).one()
    assert row.status == 2 and row.name == "renamed" and row.models is None
    too_long = await alice.put("/api/token/?status_only=1", json={"id": token["id"], "status": 1, "name": "n" * 31})
    assert too_long.json() == {"success": False, "message": "参数错误：令牌名称过长"}

    token = await create(alice, name="r")
    enable = {"id": token["id"], "status": 1}
    await set_columns(app, token["id"], status=3, expired_time=int(time.time()) - 10)
    assert (await alice.put("/api/token/?status_only=1", json=enable)).json() == {
        "success": False,
        "message": "令牌已过期，无法启用，请先修改令牌过期时间，或者设置为永不过期",
    }
    await set_columns(app, token["id"], expired_time=-1)
    assert (await alice.put("/api/token/?status_only=1", json=enable)).json()["data"]["status"] == 1

    await set_columns(app, token["id"], status=4, remain_quota=0, unlimited_quota=False)
    assert (await alice.put("/api/token/?status_only=1", json=enable)).json() == {
        "success": False,
        "message": "令牌可用额度已用尽，无法启用，请先修改令牌剩余额度，或者设置为无限额度",
    }
    # Disabling an exhausted token is allowed; enabling an unlimited one is too.
    assert (await alice.put("/api/token/?status_only=1", json={"id": token["id"], "status": 2})).json()["success"]
    await set_columns(app, token["id"], status=4, unlimited_quota=True)
    assert (await alice.put("/api/token/?status_only=1", json=enable)).json()["data"]["status"] == 1

    token = await create(alice, name="gone")
    assert (await alice.delete(f"/api/token/{token['id']}")).json() == {"success": True, "message": ""}
    assert (await alice.get(f"/api/token/{token['id']}")).json()["message"] == "record not found"
    assert (await alice.delete(f"/api/token/{token['id']}")).json()["message"] == "record not found"
