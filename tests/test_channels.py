"""Channel administration (docs/one-api-compat.md §3.3, §3.4, §4.9) and GET /api/models (§4.5), on every backend."""

from __future__ import annotations

import time
from typing import Any

import httpx
import pytest
from sqlalchemy import select

from master.abilities import set_channel_status
from master.db.schema import abilities, channels
from master.users.accounts import create_user
from shared.catalog import model_catalogue
from tests.support.access import access_token
from tests.support.app import client_for

NO_PERMISSION = {"success": False, "message": "无权进行此操作，权限不足"}
NOT_LOGGED_IN = {"success": False, "message": "无权进行此操作，未登录且未提供 access token"}


@pytest.fixture
async def admin(master: tuple[Any, httpx.AsyncClient]) -> httpx.AsyncClient:
    """A root client authenticated by root's access token (independent of the login route)."""
    app = master[0]
    client = client_for(app)
    client.headers["Authorization"] = await access_token(app, "root")
    yield client
    await client.aclose()


@pytest.fixture
async def common_user(master: tuple[Any, httpx.AsyncClient]) -> httpx.AsyncClient:
    app = master[0]
    await create_user(app.state.ctx, "alice", "password123")
    client = client_for(app)
    client.headers["Authorization"] = f"Bearer {await access_token(app, 'alice')}"
    yield client
    await client.aclose()


def _app(master: tuple[Any, httpx.AsyncClient]) -> Any:
    return master[0]


async def _abilities(app: Any) -> set[tuple[str, str, int, bool, int]]:
    async with app.state.ctx.store.main.connect() as conn:
        rows = (await conn.execute(select(abilities))).all()
    return {(r.group, r.model, r.channel_id, bool(r.enabled), r.priority) for r in rows}


async def _add(admin: httpx.AsyncClient, **fields: Any) -> None:
    body = {"name": "ch", "type": 1, "key": "sk-1", "models": "gpt-4", "group": "default", **fields}
    resp = await admin.post("/api/channel/", json=body)
    assert resp.json() == {"success": True, "message": ""}, resp.text


async def _ids(admin: httpx.AsyncClient) -> list[int]:
    return [c["id"] for c in (await admin.get("/api/channel/?p=0")).json()["data"]]


async def test_channel_routes_are_admin_only(client: httpx.AsyncClient, common_user: httpx.AsyncClient) -> None:
    calls = [
        ("GET", "/api/channel/", None),
        ("GET", "/api/channel/search?keyword=a", None),
        ("GET", "/api/channel/models", None),
        ("GET", "/api/channel/1", None),
        ("POST", "/api/channel/", {"key": "k"}),
        ("PUT", "/api/channel/", {"id": 1}),
        ("DELETE", "/api/channel/1", None),
        ("DELETE", "/api/channel/disabled", None),
    ]
    for method, path, body in calls:
        anonymous = await client.request(method, path, json=body)
        assert (anonymous.status_code, anonymous.json()) == (401, NOT_LOGGED_IN), path
        user = await common_user.request(method, path, json=body)
        assert (user.status_code, user.json()) == (200, NO_PERMISSION), path
    assert (await client.get("/api/models")).status_code == 401
    body = (await common_user.get("/api/models")).json()
    assert body["success"] is True and body["message"] == ""
    assert list(body["data"]) == [str(i) for i in range(1, 52)]
    assert body["data"]["43"] is None
    assert "gpt-4o" in body["data"]["1"] and "claude-3-5-sonnet-20241022" in body["data"]["14"]


async def test_batch_add_makes_one_channel_per_key_line_with_abilities(master, admin: httpx.AsyncClient) -> None:
    before = int(time.time())
    await _add(admin, key="sk-a\nsk-b\n\nsk-c\n", models="gpt-4,gpt-3.5-turbo,gpt-4", group="default,vip", priority=3)
    listed = (await admin.get("/api/channel/")).json()["data"]
    assert len(listed) == 3
    ids = [c["id"] for c in listed]
    assert ids == sorted(ids, reverse=True)
    first = listed[-1]
    assert first["key"] == "" and first["status"] == 1 and first["weight"] == 0 and first["base_url"] == ""
    assert first["model_mapping"] == "" and first["priority"] == 3 and first["group"] == "default,vip"
    assert first["other"] is None and first["system_prompt"] is None and first["used_quota"] == 0
    assert before <= first["created_time"] <= int(time.time()) + 1
    async with _app(master).state.ctx.store.main.connect() as conn:
        keys = sorted((await conn.execute(select(channels.c.key))).scalars())
    assert keys == ["sk-a", "sk-b", "sk-c"]
    expected = {(g, m, i, True, 3) for i in ids for m in ("gpt-4", "gpt-3.5-turbo") for g in ("default", "vip")}
    assert await _abilities(_app(master)) == expected
    # A second batch with zero values gets gorm's defaults.
    await _add(admin, status=0, group="", weight=None, models="m1")
    channel = (await admin.get("/api/channel/")).json()["data"][0]
    assert (channel["status"], channel["group"], channel["weight"], channel["priority"]) == (1, "default", 0, 0)
    mine = {row for row in await _abilities(_app(master)) if row[2] == channel["id"]}
    assert mine == {("default", "m1", channel["id"], True, 0)}


async def test_key_hidden_in_list_search_get_and_put(admin: httpx.AsyncClient) -> None:
    await _add(admin, name="hidden", key="sk-secret")
    channel_id = (await _ids(admin))[0]
    assert (await admin.get("/api/channel/")).json()["data"][0]["key"] == ""
    assert (await admin.get("/api/channel/search?keyword=hid")).json()["data"][0]["key"] == ""
    got = (await admin.get(f"/api/channel/{channel_id}")).json()
    assert got["success"] and got["data"]["key"] == "" and got["data"]["name"] == "hidden"
    put = (await admin.put("/api/channel/", json={"id": channel_id, "name": "renamed"})).json()
    assert put["success"] and put["data"]["key"] == "" and put["data"]["name"] == "renamed"
    assert set(put["data"]) == set(got["data"])


async def test_update_keeps_abilities_in_step(master, admin: httpx.AsyncClient) -> None:
    app = _app(master)
    await _add(admin, models="a,b", group="default")
    cid = (await _ids(admin))[0]

    async def put(**fields: Any) -> dict[str, Any]:
        body = (await admin.put("/api/channel/", json={"id": cid, **fields})).json()
        assert body["success"], body
        return body["data"]

    await put(models="b,c,c", group="default,vip")
    assert await _abilities(app) == {(g, m, cid, True, 0) for m in "bc" for g in ("default", "vip")}
    await put(status=2, priority=7)
    assert await _abilities(app) == {(g, m, cid, False, 7) for m in "bc" for g in ("default", "vip")}
    # Zero plain fields are skipped; pointer fields are written even when zero or empty.
    data = await put(status=0, name="", priority=0, weight=0, base_url="", models="")
    assert (data["status"], data["name"], data["priority"], data["weight"]) == (2, "ch", 0, 0)
    assert data["models"] == "b,c,c"  # stored as sent; abilities de-duplicate
    data = await put(status=1, weight=5, base_url="https://example.test", system_prompt="be brief", other="x")
    assert (data["weight"], data["base_url"], data["system_prompt"], data["other"]) == (5, "https://example.test", "be brief", "x")
    assert await _abilities(app) == {(g, m, cid, True, 0) for m in "bc" for g in ("default", "vip")}


async def test_delete_one_channel_and_the_disabled_ones(master, admin: httpx.AsyncClient) -> None:
    await _add(admin, key="k1\nk2\nk3\nk4", models="x,y")
    gone, third, second, first = await _ids(admin)
    assert (await admin.delete(f"/api/channel/{gone}")).json() == {"success": True, "message": ""}
    assert {row[2] for row in await _abilities(_app(master))} == {first, second, third}
    assert (await admin.get(f"/api/channel/{gone}")).json() == {"success": False, "message": "record not found"}
    await admin.put("/api/channel/", json={"id": second, "status": 2})
    await admin.put("/api/channel/", json={"id": third, "status": 3})
    assert (await admin.delete("/api/channel/disabled")).json() == {"success": True, "message": "", "data": 2}
    assert await _ids(admin) == [first]
    # One API leaves the deleted channels' ability rows behind (disabled, so never routed to).
    left = await _abilities(_app(master))
    assert {(cid, enabled) for _, _, cid, enabled, _ in left} == {(first, True), (second, False), (third, False)}
    assert (await admin.delete("/api/channel/disabled")).json()["data"] == 0


async def test_listing_pages_and_search(admin: httpx.AsyncClient) -> None:
    await _add(admin, key="\n".join(f"k{i}" for i in range(12)))
    page0 = [c["id"] for c in (await admin.get("/api/channel/?p=0")).json()["data"]]
    page1 = [c["id"] for c in (await admin.get("/api/channel/?p=1")).json()["data"]]
    assert len(page0) == 10 and len(page1) == 2
    assert page0 + page1 == sorted(page0 + page1, reverse=True)
    for odd in ("?p=-3", "?p=abc", ""):
        assert [c["id"] for c in (await admin.get(f"/api/channel/{odd}")).json()["data"]] == page0
    assert (await admin.get("/api/channel/?p=2")).json() == {"success": True, "message": "", "data": []}
    await _add(admin, name="alpha")
    await _add(admin, name="beta")
    beta, alpha = (await _ids(admin))[:2]

    async def names(keyword: str) -> list[str]:
        return [c["name"] for c in (await admin.get("/api/channel/search", params={"keyword": keyword})).json()["data"]]

    assert await names("al") == ["alpha"]
    assert await names(str(beta)) == ["beta"]
    assert await names("lpha") == []
    assert await names("99999999999") == []
    assert sorted(await names("")) == ["alpha", "beta"] + ["ch"] * 12


async def test_channel_models_is_the_unenveloped_catalogue(admin: httpx.AsyncClient) -> None:
    body = (await admin.get("/api/channel/models")).json()
    assert set(body) == {"object", "data"} and body["object"] == "list"
    assert len(body["data"]) == len(model_catalogue())
    assert body["data"][0] == model_catalogue()[0].as_dict()
    owners = [m["owned_by"] for m in body["data"] if m["id"] == "claude-3-5-sonnet-20241022"]
    assert owners == ["anthropic", "aws"]


BAD_BODIES = [
    ({"type": "abc", "key": "k"}, "json: cannot unmarshal string into Go struct field Channel.type of type int"),
    ({"status": 1.5, "key": "k"}, "json: cannot unmarshal number 1.5 into Go struct field Channel.status of type int"),
    ({"weight": -1, "key": "k"}, "json: cannot unmarshal number -1 into Go struct field Channel.weight of type uint"),
    ({"models": ["a"], "key": "k"}, "json: cannot unmarshal array into Go struct field Channel.models of type string"),
    ({"priority": True, "key": "k"}, "json: cannot unmarshal bool into Go struct field Channel.priority of type int64"),
    ({"status": 2**40, "key": "k"}, f"json: cannot unmarshal number {2**40} into Go struct field Channel.status of type int"),
    ({"group": "g" * 33, "key": "k"}, "字段 group 过长：最多 32 个字符"),
    ({"model_mapping": "not json", "key": "k"}, "模型映射必须是合法的 JSON 格式！"),
    ({"model_mapping": '["a"]', "key": "k"}, "模型映射必须是合法的 JSON 格式！"),
    ({"model_mapping": '{"a": 1}', "key": "k"}, "模型映射必须是合法的 JSON 格式！"),
    ({"key": "\n\n"}, "empty slice found"),
]


async def test_add_rejects_bad_input_clearly(admin: httpx.AsyncClient) -> None:
    for body, message in BAD_BODIES:
        resp = await admin.post("/api/channel/", json=body)
        assert (resp.status_code, resp.json()) == (200, {"success": False, "message": message}), body
    assert await _ids(admin) == []


async def test_malformed_bodies_and_bad_updates(admin: httpx.AsyncClient) -> None:
    # Go matches JSON keys case-insensitively; null leaves a plain field as it was.
    upper = await admin.post("/api/channel/", json={"KEY": "k-upper", "Name": "upper", "models": "m", "name": None})
    assert upper.json()["success"] is True
    assert (await admin.get("/api/channel/search?keyword=upper")).json()["data"][0]["name"] == "upper"
    for raw in (b"{not json", b"[1, 2]"):
        resp = await admin.post("/api/channel/", content=raw)
        assert resp.json() == {"success": False, "message": "invalid parameter"}
    zh = await admin.put("/api/channel/", content=b"{", headers={"Accept-Language": "zh-CN"})
    assert zh.json() == {"success": False, "message": "无效的参数"}
    assert (await admin.put("/api/channel/", json={"name": "x"})).json()["message"] == "WHERE conditions required"
    assert (await admin.put("/api/channel/", json={"id": 12345, "name": "x"})).json() == {"success": False, "message": "record not found"}
    await _add(admin, model_mapping='{"gpt-4": "gpt-4o"}')
    cid = (await _ids(admin))[0]
    bad = await admin.put("/api/channel/", json={"id": cid, "model_mapping": "{"})
    assert bad.json() == {"success": False, "message": "模型映射必须是合法的 JSON 格式！"}
    cleared = (await admin.put("/api/channel/", json={"id": cid, "model_mapping": ""})).json()
    assert cleared["data"]["model_mapping"] == ""
    assert (await admin.delete("/api/channel/0")).json()["message"] == "WHERE conditions required"
    assert (await admin.get("/api/channel/99999999999")).json()["message"] == "record not found"
    # MySQL's case-insensitive collation makes these two ability rows collide: a business error
    # with the driver's text and nothing written; other backends accept both models.
    count = len(await _ids(admin))
    collide = await admin.post("/api/channel/", json={"key": "k", "models": "Dup,dup"})
    assert collide.status_code == 200
    outcome = collide.json()
    assert outcome["success"] or (outcome["message"] and len(await _ids(admin)) == count)
    # Item routes take numeric ids only: other modules' /api/channel/test etc. are not swallowed.
    assert (await admin.get("/api/channel/no-such-route")).status_code == 404


async def test_set_channel_status_flips_abilities_and_publishes(master, admin: httpx.AsyncClient) -> None:
    app = _app(master)
    ctx = app.state.ctx
    await _add(admin, models="m1,m2")
    cid = (await _ids(admin))[0]
    version = ctx.config_version
    assert await set_channel_status(ctx, cid, 3) is True
    assert ctx.config_version == version + 1
    assert (await admin.get(f"/api/channel/{cid}")).json()["data"]["status"] == 3
    assert {row[3] for row in await _abilities(app)} == {False}
    assert await set_channel_status(ctx, cid, 1) is True
    assert {row[3] for row in await _abilities(app)} == {True}
    assert await set_channel_status(ctx, 98765, 1) is False
    ctx = _app(master).state.ctx
    start = ctx.config_version
    await _add(admin)
    cid = (await _ids(admin))[0]
    await admin.put("/api/channel/", json={"id": cid, "status": 2})
    await admin.delete("/api/channel/disabled")
    await admin.delete(f"/api/channel/{cid}")
    assert ctx.config_version == start + 4
