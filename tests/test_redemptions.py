"""Redemption code administration of docs/one-api-compat.md §4.10 (AdminAuth), on every backend."""

from __future__ import annotations

import re
import time
from collections.abc import AsyncIterator

import httpx
import pytest
from sqlalchemy import func, select

from master.db.schema import redemptions
from tests.support.access import add_user, client_as

CODE_KEYS = {"id", "user_id", "key", "status", "name", "quota", "created_time", "redeemed_time", "count"}
NO_PERMISSION = {"success": False, "message": "无权进行此操作，权限不足"}


@pytest.fixture
async def admin(master: tuple[object, httpx.AsyncClient]) -> AsyncIterator[httpx.AsyncClient]:
    await add_user(master[0], "admin", role=10)
    client = await client_as(master[0], "admin")
    yield client
    await client.aclose()


async def make_codes(client: httpx.AsyncClient, name: str = "promo", quota: int = 0, count: int = 1) -> list[str]:
    body = (await client.post("/api/redemption/", json={"name": name, "quota": quota, "count": count})).json()
    assert body["success"] is True, body
    return body["data"]


async def count_rows(app: object) -> int:
    async with app.state.ctx.store.main.connect() as conn:  # type: ignore[attr-defined]
        return (await conn.execute(select(func.count()).select_from(redemptions))).scalar_one()


async def test_create_rules_and_quota_default(master: tuple[object, httpx.AsyncClient], admin: httpx.AsyncClient) -> None:
    app = master[0]
    name_rule = {"success": False, "message": "兑换码名称长度必须在1-20之间"}
    assert (await admin.post("/api/redemption/", json={"name": "", "count": 1})).json() == name_rule
    assert (await admin.post("/api/redemption/", json={"name": "a" * 21, "count": 1})).json() == name_rule
    assert (await admin.post("/api/redemption/", json={"name": "兑" * 7, "count": 1})).json() == name_rule  # 21 bytes
    for count in (0, -1):
        resp = (await admin.post("/api/redemption/", json={"name": "n", "count": count})).json()
        assert resp == {"success": False, "message": "兑换码个数必须大于0"}
    resp = (await admin.post("/api/redemption/", json={"name": "n", "count": 101})).json()
    assert resp == {"success": False, "message": "一次兑换码批量生成的个数不能大于 100"}
    assert (await admin.post("/api/redemption/", json={"name": "n"})).json()["message"] == "兑换码个数必须大于0"
    assert await count_rows(app) == 0

    before = int(time.time())
    keys = await make_codes(admin, name="a" * 20, quota=0, count=3)
    assert len(keys) == 3 and len(set(keys)) == 3 and all(re.fullmatch(r"[0-9a-f]{32}", k) for k in keys)
    listed = (await admin.get("/api/redemption/")).json()["data"]
    assert {c["key"] for c in listed} == set(keys)
    admin_id = listed[0]["user_id"]
    for code in listed:
        assert set(code) == CODE_KEYS
        assert code["quota"] == 100 and code["status"] == 1 and code["count"] == 0
        assert code["user_id"] == admin_id and code["redeemed_time"] == 0 and code["created_time"] >= before
    assert await make_codes(admin, quota=-5)  # a negative quota is stored as given
    assert (await admin.get("/api/redemption/")).json()["data"][0]["quota"] == -5


async def test_auth_levels_and_malformed_input(master: tuple[object, httpx.AsyncClient], admin: httpx.AsyncClient) -> None:
    for raw in (
        b"",
        b"{",
        b"[1]",
        b'{"count": "3", "name": "x"}',
        b'{"count": 2.5, "name": "x"}',
        b'{"name": 7, "count": 1}',
        b'{"quota": true, "name": "x", "count": 1}',
    ):
        for method in ("POST", "PUT"):
            resp = await admin.request(method, "/api/redemption/", content=raw)
            assert resp.status_code == 200
            assert resp.json() == {"success": False, "message": "invalid parameter"}, (method, raw)
    assert (await admin.get("/api/redemption/x1")).json()["message"] == 'strconv.Atoi: parsing "x1": invalid syntax'
    assert (await admin.get("/api/redemption/0")).json() == {"success": False, "message": "id 为空！"}
    assert (await admin.get("/api/redemption/12345")).json() == {"success": False, "message": "record not found"}
    assert (await admin.delete("/api/redemption/zz")).json() == {"success": False, "message": "id 为空！"}
    assert (await admin.put("/api/redemption/", json={"name": "x"})).json()["message"] == "id 为空！"

    app, anonymous = master
    resp = await anonymous.get("/api/redemption/")
    assert resp.status_code == 401 and resp.json()["success"] is False
    await add_user(app, "common")
    common = await client_as(app, "common")
    try:
        for method, path in (
            ("GET", "/api/redemption/"),
            ("GET", "/api/redemption/search?keyword=a"),
            ("GET", "/api/redemption/1"),
            ("POST", "/api/redemption/"),
            ("PUT", "/api/redemption/"),
            ("DELETE", "/api/redemption/1"),
        ):
            resp = await common.request(method, path, json={"name": "x", "count": 1})
            assert resp.status_code == 200 and resp.json() == NO_PERMISSION, (method, path)
    finally:
        await common.aclose()
    assert await count_rows(app) == 0


async def test_pagination_search_and_get(admin: httpx.AsyncClient) -> None:
    await make_codes(admin, name="alpha", count=7)
    await make_codes(admin, name="beta", count=5)
    first = (await admin.get("/api/redemption/", params={"p": 0})).json()["data"]
    second = (await admin.get("/api/redemption/", params={"p": 1})).json()["data"]
    assert len(first) == 10 and len(second) == 2
    ids = [c["id"] for c in first + second]
    assert ids == sorted(ids, reverse=True)
    assert [c["name"] for c in second] == ["alpha", "alpha"]

    by_name = (await admin.get("/api/redemption/search", params={"keyword": "be"})).json()["data"]
    assert len(by_name) == 5 and {c["name"] for c in by_name} == {"beta"}
    target = second[0]["id"]
    by_id = (await admin.get("/api/redemption/search", params={"keyword": str(target)})).json()["data"]
    assert [c["id"] for c in by_id] == [target]
    assert (await admin.get("/api/redemption/search", params={"keyword": "zeta"})).json()["data"] == []

    got = (await admin.get(f"/api/redemption/{target}")).json()
    assert got == {"success": True, "message": "", "data": second[0]}


async def test_update_and_delete(master: tuple[object, httpx.AsyncClient], admin: httpx.AsyncClient) -> None:
    await make_codes(admin, name="orig", quota=500)
    code = (await admin.get("/api/redemption/")).json()["data"][0]
    only = (await admin.put("/api/redemption/?status_only=true", json={"id": code["id"], "status": 2, "name": "no"})).json()
    assert only["success"] is True
    assert only["data"] == {**code, "status": 2}
    full = (await admin.put("/api/redemption/", json={"id": code["id"], "name": "", "quota": 0, "status": 1})).json()
    assert full["data"] == {**code, "status": 2, "name": "", "quota": 0}  # zero values written, status kept
    assert (await admin.get(f"/api/redemption/{code['id']}")).json()["data"] == full["data"]
    missing = await admin.put("/api/redemption/", json={"id": code["id"] + 100, "name": "x"})
    assert missing.json() == {"success": False, "message": "record not found"}

    assert (await admin.delete(f"/api/redemption/{code['id']}")).json() == {"success": True, "message": ""}
    assert await count_rows(master[0]) == 0
    assert (await admin.delete(f"/api/redemption/{code['id']}")).json()["message"] == "record not found"
