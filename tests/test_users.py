"""User self-service (docs/one-api-compat.md §4.6) and user administration (§4.7), on every database backend."""

from __future__ import annotations

import asyncio
import re
import time
import uuid

import httpx
from sqlalchemy import insert, select

from master.access_tokens import stored_form
from master.db.schema import abilities, logs, redemptions, users
from tests.support.app import client_for, login, make_user

USER_FIELDS = [
    "id",
    "username",
    "password",
    "display_name",
    "role",
    "status",
    "email",
    "github_id",
    "wechat_id",
    "lark_id",
    "oidc_id",
    "verification_code",
    "access_token",
    "quota",
    "used_quota",
    "request_count",
    "group",
    "aff_code",
    "inviter_id",
    "rpm_limit",
    "tpm_limit",
    "max_parallel_requests",  # ours, after One API's fields (its console ignores them)
]
OK = {"success": True, "message": ""}
BANNED = {"success": False, "message": "用户已被封禁"}
INVALID = {"success": False, "message": "invalid parameter"}
Master = tuple[object, httpx.AsyncClient]


async def row_of(app: object, username: str) -> dict:
    async with app.state.ctx.store.main.connect() as conn:  # type: ignore[attr-defined]
        return dict((await conn.execute(select(users).where(users.c.username == username))).mappings().one())


async def log_rows(app: object, log_type: int) -> list[dict]:
    async with app.state.ctx.store.logs.connect() as conn:  # type: ignore[attr-defined]
        return [dict(r) for r in (await conn.execute(select(logs).where(logs.c.type == log_type))).mappings()]


async def create_users(root: httpx.AsyncClient, names: list[str]) -> None:
    answers = await asyncio.gather(*(root.post("/api/user/", json={"username": n, "password": "password123"}) for n in names))
    assert all(a.json() == OK for a in answers), [a.text for a in answers]


async def seed_users(app: object, names: list[str]) -> dict[str, str]:
    """Common users inserted straight into the table (no bcrypt: they authenticate by access
    token); returns each one's access token."""
    tokens = {name: uuid.uuid4().hex for name in names}
    rows = [
        {
            "username": n,
            "password": "",
            "display_name": n,
            "role": 1,
            "status": 1,
            "email": "",
            "access_token": stored_form(t),
            "quota": 0,
            "used_quota": 0,
            "request_count": 0,
            "group": "default",
            "aff_code": f"a{i:03d}",
            "inviter_id": 0,
        }
        for i, (n, t) in enumerate(tokens.items())
    ]
    async with app.state.ctx.store.main.begin() as conn:  # type: ignore[attr-defined]
        await conn.execute(insert(users), rows)
    return tokens


async def admin_client(root: httpx.AsyncClient, app: object, username: str) -> httpx.AsyncClient:
    """A logged-in admin (created, promoted, then logged in)."""
    await create_users(root, [username])
    promoted = await root.post("/api/user/manage", json={"username": username, "action": "promote"})
    assert promoted.json()["data"]["role"] == 10
    admin = client_for(app)
    assert (await login(admin, username, "password123")).json()["success"]
    return admin


async def test_self_service(master: Master, root_client: httpx.AsyncClient) -> None:
    app, _ = master
    bob = await make_user(root_client, app, "bob")
    me = (await bob.get("/api/user/self")).json()
    assert me["success"] is True and list(me["data"]) == USER_FIELDS
    assert me["data"]["password"] == "" and me["data"]["access_token"] == ""
    assert me["data"]["username"] == "bob" and me["data"]["role"] == 1 and me["data"]["group"] == "default"
    assert re.fullmatch(r"[0-9A-Za-z]{4}", me["data"]["aff_code"])

    too_long = await bob.put("/api/user/self", json={"username": "b" * 13})
    assert too_long.json() == {
        "success": False,
        "message": "输入不合法 Key: 'User.Username' Error:Field validation for 'Username' failed on the 'max' tag",
    }
    assert (await bob.put("/api/user/self", content=b"{")).json() == INVALID
    assert (await bob.put("/api/user/self", json={"display_name": "Bobby", "role": 100})).json() == OK
    row = await row_of(app, "bob")
    assert row["display_name"] == "Bobby" and row["role"] == 1  # only username/password/display_name are taken
    assert (await bob.put("/api/user/self", json={"password": "newpassword1"})).json() == OK
    assert (await login(client_for(app), "bob", "newpassword1")).json()["success"] is True

    aff = (await bob.get("/api/user/aff")).json()["data"]
    assert aff == me["data"]["aff_code"] == (await bob.get("/api/user/aff")).json()["data"]
    token = (await bob.get("/api/user/token")).json()["data"]
    assert re.fullmatch(r"[0-9a-f]{32}", token) and (await row_of(app, "bob"))["access_token"] == stored_form(token)
    by_token = await client_for(app).get("/api/user/self", headers={"Authorization": f"Bearer {token}"})
    assert by_token.json()["data"]["username"] == "bob"

    root_delete = await root_client.delete("/api/user/self")
    assert root_delete.json() == {"success": False, "message": "不能删除超级管理员账户"}
    assert (await bob.delete("/api/user/self")).json() == OK
    async with app.state.ctx.store.main.connect() as conn:  # type: ignore[attr-defined]
        gone = (await conn.execute(select(users).where(users.c.id == me["data"]["id"]))).mappings().one()
    assert re.fullmatch(r"deleted_[0-9a-f]{32}", gone["username"]) and gone["status"] == 3
    assert (await bob.get("/api/user/self")).json() == BANNED
    await bob.aclose()


async def test_redemption_is_redeemed_exactly_once(master: Master, root_client: httpx.AsyncClient) -> None:
    app, _ = master
    key, disabled_key = "a" * 32, "b" * 32
    async with app.state.ctx.store.main.begin() as conn:  # type: ignore[attr-defined]
        for k, status in ((key, 1), (disabled_key, 2)):
            await conn.execute(
                insert(redemptions).values(
                    user_id=1, key=k, status=status, name="gift", quota=777, created_time=int(time.time()), redeemed_time=0
                )
            )
    topup = "/api/user/topup"
    assert (await root_client.post(topup, json={"key": ""})).json() == {"success": False, "message": "未提供兑换码"}
    assert (await root_client.post(topup, json={"key": "c" * 32})).json() == {"success": False, "message": "兑换失败，无效的兑换码"}
    used = {"success": False, "message": "兑换失败，该兑换码已被使用"}
    assert (await root_client.post(topup, json={"key": disabled_key})).json() == used
    assert (await root_client.post(topup, content=b"[")).json() == INVALID

    names = [f"racer{i}" for i in range(20)]
    tokens = list((await seed_users(app, names)).values())
    clients = [client_for(app) for _ in tokens]  # one client per user, each with its own access token
    for racer, token in zip(clients, tokens, strict=True):
        racer.headers["Authorization"] = f"Bearer {token}"
    answers = await asyncio.gather(*(racer.post(topup, json={"key": key}) for racer in clients))
    bodies = [a.json() for a in answers]
    assert bodies.count({"success": True, "message": "", "data": 777}) == 1
    assert bodies.count(used) == 19
    quotas = [(await row_of(app, n))["quota"] for n in names]
    assert sorted(quotas) == [0] * 19 + [777]
    async with app.state.ctx.store.main.connect() as conn:  # type: ignore[attr-defined]
        code = (await conn.execute(select(redemptions).where(redemptions.c.key == key))).mappings().one()
    assert code["status"] == 3 and code["redeemed_time"] > 0
    topups = await log_rows(app, 1)
    assert [t["content"] for t in topups] == ["通过兑换码充值 ＄0.001554 额度"]
    assert topups[0]["username"] in names
    for racer in clients:
        await racer.aclose()


async def test_available_models_and_dashboard(master: Master, root_client: httpx.AsyncClient) -> None:
    app, _ = master
    ctx = app.state.ctx  # type: ignore[attr-defined]
    assert (await root_client.get("/api/user/available_models")).json() == {"success": True, "message": "", "data": []}
    async with ctx.store.main.begin() as conn:
        await conn.execute(
            insert(abilities),
            [
                {"group": "default", "model": "gpt-4", "channel_id": 1, "enabled": True, "priority": 0},
                {"group": "default", "model": "gpt-4", "channel_id": 2, "enabled": True, "priority": 0},
                {"group": "default", "model": "claude-3", "channel_id": 1, "enabled": True, "priority": 0},
                {"group": "default", "model": "switched-off", "channel_id": 3, "enabled": False, "priority": 0},
                {"group": "vip", "model": "vip-only", "channel_id": 1, "enabled": True, "priority": 0},
            ],
        )
    models = (await root_client.get("/api/user/available_models")).json()["data"]
    assert models == ["claude-3", "gpt-4"]

    today = int(time.time()) // 86400 * 86400
    day = lambda offset: time.strftime("%Y-%m-%d", time.gmtime(today - offset * 86400))  # noqa: E731

    def entry(user_id: int, at: int, model: str, quota: int, log_type: int = 2) -> dict:
        return {
            "user_id": user_id,
            "created_at": at,
            "type": log_type,
            "content": "",
            "username": "root",
            "token_name": "",
            "model_name": model,
            "quota": quota,
            "prompt_tokens": 10,
            "completion_tokens": 5,
            "channel_id": 1,
            "request_id": "",
            "elapsed_time": 0,
            "is_stream": False,
            "system_prompt_reset": False,
        }

    async with ctx.store.logs.begin() as conn:
        await conn.execute(
            insert(logs),
            [
                entry(1, today + 5, "gpt-4", 100),
                entry(1, today + 50, "gpt-4", 50),
                entry(1, today + 9, "claude-3", 7),
                entry(1, today - 3 * 86400 + 1, "gpt-4", 3),
                entry(1, today - 6 * 86400, "gpt-4", 1),
                entry(1, today - 7 * 86400 + 5, "gpt-4", 999),
                entry(1, today + 1, "gpt-4", 999, log_type=3),
                entry(2, today + 1, "gpt-4", 999),
            ],
        )
    data = (await root_client.get("/api/user/dashboard")).json()["data"]

    def stat(d: str, model: str, count: int, quota: int) -> dict:
        return {
            "Day": d,
            "ModelName": model,
            "RequestCount": count,
            "Quota": quota,
            "PromptTokens": 10 * count,
            "CompletionTokens": 5 * count,
        }

    assert data == [stat(day(6), "gpt-4", 1, 1), stat(day(3), "gpt-4", 1, 3), stat(day(0), "claude-3", 1, 7), stat(day(0), "gpt-4", 2, 150)]


async def test_admin_listing_search_and_get(master: Master, root_client: httpx.AsyncClient) -> None:
    app, _ = master
    await seed_users(app, [f"user{i}" for i in range(1, 12)])
    first = (await root_client.get("/api/user/")).json()["data"]
    second = (await root_client.get("/api/user/", params={"p": 1})).json()["data"]
    assert len(first) == 10 and len(second) == 2
    ids = [u["id"] for u in first + second]
    assert ids == sorted(ids, reverse=True) and len(set(ids)) == 12
    assert all(list(u) == USER_FIELDS and u["password"] == "" and u["access_token"] == "" for u in first)
    for odd in ("-3", "abc"):
        assert (await root_client.get("/api/user/", params={"p": odd})).json()["data"] == first
    user5 = await row_of(app, "user5")
    assert (await root_client.post("/api/topup", json={"user_id": user5["id"], "quota": 1000})).json() == OK
    by_quota = (await root_client.get("/api/user/", params={"order": "quota"})).json()["data"]
    assert [u["username"] for u in by_quota[:2]] == ["root", "user5"]

    found = (await root_client.get("/api/user/search", params={"keyword": "user1"})).json()["data"]
    assert sorted(u["username"] for u in found) == ["user1", "user10", "user11"]
    assert all(u["access_token"] == "" and u["password"] == "" for u in found)
    by_id = {u["username"] for u in (await root_client.get("/api/user/search", params={"keyword": str(user5["id"])})).json()["data"]}
    # One API matches `id = keyword` except on PostgreSQL.
    assert by_id == (set() if app.state.ctx.store.dialect == "postgresql" else {"user5"})  # type: ignore[attr-defined]

    await root_client.delete(f"/api/user/{user5['id']}")
    listed = [u["username"] for u in (await root_client.get("/api/user/", params={"p": 1})).json()["data"]]
    assert len(listed) == 1  # the deleted user leaves the listing
    deleted = (await root_client.get("/api/user/search", params={"keyword": "deleted_"})).json()["data"]
    assert [u["id"] for u in deleted] == [user5["id"]]

    admin = await admin_client(root_client, app, "boss")
    got = (await admin.get(f"/api/user/{user5['id']}")).json()
    assert got["success"] is True and got["data"]["access_token"] == "" and got["data"]["password"] == ""
    higher = {"success": False, "message": "无权获取同级或更高等级用户的信息"}
    assert (await admin.get("/api/user/1")).json() == higher
    boss_id = (await row_of(app, "boss"))["id"]
    assert (await admin.get(f"/api/user/{boss_id}")).json() == higher
    assert (await root_client.get(f"/api/user/{boss_id}")).json()["data"]["role"] == 10
    assert (await root_client.get("/api/user/99999")).json() == {"success": False, "message": "record not found"}
    assert (await root_client.get("/api/user/abc")).json() == INVALID
    assert (await root_client.delete("/api/user/search")).json() == INVALID  # gin's :id takes any segment
    assert (await root_client.get("/api/user")).status_code == 301
    await admin.aclose()


async def test_admin_create_update_and_manage(master: Master, root_client: httpx.AsyncClient) -> None:
    app, _ = master
    create = "/api/user/"
    assert (await root_client.post(create, json={"username": "carl"})).json() == INVALID
    assert (await root_client.post(create, content=b"nope")).json() == INVALID
    too_long = await root_client.post(create, json={"username": "c" * 13, "password": "password123"})
    assert too_long.json() == {"success": False, "message": "Invalid input, please check your input"}
    as_root = await root_client.post(create, json={"username": "carl", "password": "password123", "role": 100})
    assert as_root.json() == {"success": False, "message": "无法创建权限大于等于自己的用户"}
    assert (await root_client.post(create, json={"username": "carl", "password": "password123", "role": 10})).json() == OK
    carl = await row_of(app, "carl")
    assert carl["role"] == 1 and carl["display_name"] == "carl"  # the requested role is ignored
    dup = await root_client.post(create, json={"username": "carl", "password": "password123"})
    assert dup.json() == {"success": False, "message": "用户名 carl 已被占用"}

    update = "/api/user/"
    assert (await root_client.put(update, json={"username": "x"})).json() == INVALID
    assert (await root_client.put(update, json={"id": carl["id"], "quota": 5000, "display_name": "Carl"})).json() == OK
    assert (await root_client.put(update, json={"id": carl["id"], "quota": 0, "group": "vip"})).json() == OK
    carl = await row_of(app, "carl")
    assert (carl["quota"], carl["display_name"], carl["group"]) == (5000, "Carl", "vip")  # zero fields are skipped
    manage_logs = await log_rows(app, 3)
    assert [m["content"] for m in manage_logs] == ["管理员将用户额度从 ＄0.000000 额度修改为 ＄0.010000 额度"]
    carl_client = client_for(app)
    await login(carl_client, "carl", "password123")
    assert (await root_client.put(update, json={"id": carl["id"], "status": 2})).json() == OK
    assert (await carl_client.get("/api/user/self")).json() == BANNED
    assert (await root_client.put(update, json={"id": carl["id"], "status": 1, "password": "password456"})).json() == OK
    assert (await login(carl_client, "carl", "password456")).json()["success"] is True

    admin = await admin_client(root_client, app, "boss")
    no_peer = {"success": False, "message": "无权更新同权限等级或更高权限等级的用户信息"}
    assert (await admin.put(update, json={"id": 1, "display_name": "x"})).json() == no_peer
    raise_role = await admin.put(update, json={"id": carl["id"], "role": 10})
    assert raise_role.json() == {"success": False, "message": "无权将其他用户权限等级提升到大于等于自己的权限等级"}

    manage = "/api/user/manage"

    async def act(client: httpx.AsyncClient, username: str, action: str) -> dict:
        return (await client.post(manage, json={"username": username, "action": action})).json()

    def result(role: int, status: int) -> dict:
        data = dict.fromkeys(USER_FIELDS, "")
        zeros = ("id", "quota", "used_quota", "request_count", "inviter_id", "rpm_limit", "tpm_limit", "max_parallel_requests")
        data.update(dict.fromkeys(zeros, 0), role=role, status=status)
        return {"success": True, "message": "", "data": data}

    assert await act(root_client, "ghost", "disable") == {"success": False, "message": "用户不存在"}
    assert await act(admin, "boss", "disable") == {"success": False, **{"message": no_peer["message"]}}
    assert await act(admin, "carl", "promote") == {"success": False, "message": "普通管理员用户无法提升其他用户为管理员"}
    assert await act(root_client, "carl", "promote") == result(10, 1)
    assert await act(root_client, "carl", "promote") == {"success": False, "message": "该用户已经是管理员"}
    assert await act(root_client, "carl", "demote") == result(1, 1)
    assert await act(root_client, "carl", "demote") == {"success": False, "message": "该用户已经是普通用户"}
    assert await act(root_client, "root", "disable") == {"success": False, "message": "无法禁用超级管理员用户"}
    assert await act(root_client, "root", "delete") == {"success": False, "message": "无法删除超级管理员用户"}
    assert await act(root_client, "root", "demote") == {"success": False, "message": "无法降级超级管理员用户"}
    assert await act(admin, "carl", "disable") == result(1, 2)
    assert await act(admin, "carl", "enable") == result(1, 1)
    assert await act(admin, "carl", "dance") == result(1, 1)  # unknown actions change nothing
    assert (await root_client.post(manage, content=b"{")).json() == INVALID
    assert await act(admin, "carl", "delete") == result(1, 3)
    async with app.state.ctx.store.main.connect() as conn:  # type: ignore[attr-defined]
        gone = (await conn.execute(select(users).where(users.c.id == carl["id"]))).mappings().one()
    assert gone["username"].startswith("deleted_") and gone["status"] == 3
    assert (await carl_client.get("/api/user/self")).json() == BANNED
    await admin.aclose()
    await carl_client.aclose()


async def test_delete_by_id_and_admin_top_up(master: Master, root_client: httpx.AsyncClient) -> None:
    app, _ = master
    await create_users(root_client, ["dora"])
    dora = await row_of(app, "dora")
    admin = await admin_client(root_client, app, "boss")
    no_right = {"success": False, "message": "无权删除同权限等级或更高权限等级的用户"}
    assert (await admin.delete("/api/user/1")).json() == no_right
    assert (await root_client.delete("/api/user/1")).json() == no_right  # no root exemption here
    for huge in ("99999", str(2**40)):  # ids past the 32-bit column are simply not found
        assert (await root_client.delete(f"/api/user/{huge}")).json() == {"success": False, "message": "record not found"}
    assert (await root_client.delete(f"/api/user/{10**19}")).json() == INVALID  # beyond Go's int: Atoi fails
    deleted = await admin.delete(f"/api/user/{dora['id']}")
    assert deleted.status_code == 200 and deleted.content == b""  # One API writes no body on success
    assert (await row_of(app, "boss"))["status"] == 1
    async with app.state.ctx.store.main.connect() as conn:  # type: ignore[attr-defined]
        gone = (await conn.execute(select(users).where(users.c.id == dora["id"]))).mappings().one()
    assert gone["status"] == 3 and gone["username"].startswith("deleted_")

    topup = "/api/topup"
    boss = await row_of(app, "boss")
    negative = await root_client.post(topup, json={"user_id": boss["id"], "quota": -5})
    assert negative.json() == {"success": False, "message": "quota 不能为负数！"}
    assert (await root_client.post(topup, content=b"{x")).json() == INVALID
    for nobody in (99999, 2**40):
        assert (await root_client.post(topup, json={"user_id": nobody, "quota": 5})).json() == {"success": False, "message": "用户不存在"}
    assert (await admin.post(topup, json={"user_id": boss["id"], "quota": 1000})).json() == OK
    assert (await root_client.post(topup, json={"user_id": boss["id"], "quota": 250, "remark": "bonus"})).json() == OK
    assert (await row_of(app, "boss"))["quota"] == 1250
    entries = sorted((t["content"], t["quota"], t["username"]) for t in await log_rows(app, 1))
    assert entries == [("bonus", 250, "boss"), ("通过 API 充值 ＄0.002000 额度", 1000, "boss")]
    await admin.aclose()
