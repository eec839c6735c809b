"""Session revocation: a session ends, for every copy of its cookie, at logout, password change,
role change, disable and delete, and every /api request reads the user's current role and status.
One API kept role and status in the cookie and bans in memory: a demoted admin stayed admin, and a
restart let disabled and deleted users back in."""

from __future__ import annotations

from pathlib import Path

import httpx
import pytest

from tests.cluster.harness import Node, free_port
from tests.support.app import client_for, login, make_user

NOT_LOGGED_IN = {"success": False, "message": "无权进行此操作，未登录且未提供 access token"}
BANNED = {"success": False, "message": "用户已被封禁"}
OK = {"success": True, "message": ""}

Master = tuple[object, httpx.AsyncClient]


def copy_of(app: object, client: httpx.AsyncClient) -> httpx.AsyncClient:
    """Another browser holding a copy of `client`'s cookie (a stolen or shared cookie)."""
    other = client_for(app)
    other.cookies = httpx.Cookies(client.cookies)
    return other


async def assert_logged_out(client: httpx.AsyncClient) -> None:
    answer = (await client.get("/api/user/self")).json()
    assert answer["success"] is False and answer in (NOT_LOGGED_IN, BANNED), answer


async def test_logout_ends_every_copy_of_the_cookie(master: Master, root_client: httpx.AsyncClient) -> None:
    app = master[0]
    bob = await make_user(root_client, app, "bob")
    stolen = copy_of(app, bob)
    assert (await stolen.get("/api/user/self")).json()["data"]["username"] == "bob"
    assert (await bob.get("/api/user/logout")).json() == OK
    assert (await stolen.get("/api/user/self")).json() == NOT_LOGGED_IN
    await login(bob, "bob", "password123")  # a new login is a new session, unknown to the copy
    assert (await bob.get("/api/user/self")).json()["success"] is True
    await assert_logged_out(stolen)
    await bob.aclose()
    await stolen.aclose()


async def test_password_change_ends_other_copies_and_keeps_the_changer(master: Master, root_client: httpx.AsyncClient) -> None:
    app = master[0]
    bob = await make_user(root_client, app, "bob")
    stolen, laptop = copy_of(app, bob), client_for(app)
    await login(laptop, "bob", "password123")
    assert (await bob.put("/api/user/self", json={"password": "brandnew123"})).json() == OK
    assert (await bob.get("/api/user/self")).json()["data"]["username"] == "bob"  # continues, under a new id
    await assert_logged_out(stolen)
    await assert_logged_out(laptop)
    # An admin setting the password ends the user's sessions too.
    again = copy_of(app, bob)
    admin_set = await root_client.put(
        "/api/user/", json={"id": (await bob.get("/api/user/self")).json()["data"]["id"], "password": "byadmin123"}
    )
    assert admin_set.json() == OK
    await assert_logged_out(bob)
    await assert_logged_out(again)
    for client in (bob, stolen, laptop, again):
        await client.aclose()


async def test_role_changes_take_effect_at_once(master: Master, root_client: httpx.AsyncClient) -> None:
    app = master[0]
    boss = await make_user(root_client, app, "boss")
    assert (await root_client.post("/api/user/manage", json={"username": "boss", "action": "promote"})).json()["data"]["role"] == 10
    await login(boss, "boss", "password123")
    assert (await boss.get("/api/user/")).json()["success"] is True
    stolen = copy_of(app, boss)
    assert (await root_client.post("/api/user/manage", json={"username": "boss", "action": "demote"})).json()["data"]["role"] == 1
    for client in (boss, stolen):
        refused = (await client.get("/api/user/")).json()
        assert refused["success"] is False
        await assert_logged_out(client)
    # Through PUT /api/user/ as well: a role lowered there ends the admin's sessions.
    await root_client.post("/api/user/manage", json={"username": "boss", "action": "promote"})
    await login(boss, "boss", "password123")
    boss_id = (await boss.get("/api/user/self")).json()["data"]["id"]
    assert (await root_client.put("/api/user/", json={"id": boss_id, "role": 1})).json() == OK
    assert (await boss.get("/api/user/")).json()["success"] is False
    # An update that leaves the role as it is ends nothing.
    await login(boss, "boss", "password123")
    assert (await root_client.put("/api/user/", json={"id": boss_id, "role": 1, "display_name": "Boss"})).json() == OK
    assert (await boss.get("/api/user/self")).json()["data"]["display_name"] == "Boss"
    await boss.aclose()
    await stolen.aclose()


async def test_disable_and_enable_do_not_revive_old_cookies(master: Master, root_client: httpx.AsyncClient) -> None:
    app = master[0]
    bob = await make_user(root_client, app, "bob")
    stolen = copy_of(app, bob)
    assert (await root_client.post("/api/user/manage", json={"username": "bob", "action": "disable"})).json()["data"]["status"] == 2
    assert (await stolen.get("/api/user/self")).json() == BANNED
    assert (await root_client.post("/api/user/manage", json={"username": "bob", "action": "enable"})).json()["data"]["status"] == 1
    await assert_logged_out(bob)
    await assert_logged_out(stolen)
    assert (await login(bob, "bob", "password123")).json()["success"] is True
    assert (await bob.get("/api/user/self")).json()["success"] is True
    await bob.aclose()
    await stolen.aclose()


@pytest.mark.parametrize("how", ["manage", "by_id", "self"])
async def test_deleted_users_sessions_and_tokens_end(master: Master, root_client: httpx.AsyncClient, how: str) -> None:
    app = master[0]
    bob = await make_user(root_client, app, "bob")
    me = (await bob.get("/api/user/self")).json()["data"]
    token = (await bob.get("/api/user/token")).json()["data"]
    stolen = copy_of(app, bob)
    if how == "manage":
        assert (await root_client.post("/api/user/manage", json={"username": "bob", "action": "delete"})).json()["success"]
    elif how == "by_id":
        assert (await root_client.delete(f"/api/user/{me['id']}")).status_code == 200
    else:
        assert (await stolen.delete("/api/user/self")).json() == OK
    await assert_logged_out(bob)
    await assert_logged_out(stolen)
    by_token = await client_for(app).get("/api/user/self", headers={"Authorization": token})
    assert by_token.json() == BANNED  # One API let a deleted user's access token through
    await bob.aclose()
    await stolen.aclose()


def _fresh(url: str, path: str, cookie: str = "", token: str = "") -> dict:
    """One request on a new connection, so that with --workers 2 the kernel picks any worker."""
    headers = {"Authorization": token} if token else {}
    return httpx.get(url + path, cookies={"session": cookie} if cookie else None, headers=headers, timeout=10).json()


def _logged_in(url: str, username: str, password: str = "password123") -> str:
    with httpx.Client(base_url=url, timeout=10) as client:
        assert client.post("/api/user/login", json={"username": username, "password": password}).json()["success"]
        return client.cookies["session"]


def test_revocation_holds_on_every_worker_and_after_a_restart(tmp_path: Path) -> None:
    env = {"SQLITE_PATH": str(tmp_path / "master.db"), "WORKERS": "2", "CLUSTER_SECRET": "", "GRPC_PORT": str(free_port())}
    node = Node("master", env, tmp_path).start()
    try:
        root = _logged_in(node.url, "root", "123456")
        with httpx.Client(base_url=node.url, cookies={"session": root}, timeout=10) as admin:
            for name in ("bob", "carl", "dave", "erin"):
                assert admin.post("/api/user/", json={"username": name, "password": "password123"}).json()["success"]
            assert admin.post("/api/user/manage", json={"username": "dave", "action": "promote"}).json()["success"]
            cookies = {name: _logged_in(node.url, name) for name in ("bob", "carl", "dave", "erin")}
            with httpx.Client(base_url=node.url, cookies={"session": cookies["bob"]}, timeout=10) as bob:
                answer = bob.get("/api/user/token").json()
                assert answer["success"], answer
                bob_token = answer["data"]
            dave_list = _fresh(node.url, "/api/user/", cookies["dave"])
            assert dave_list["success"] is True, dave_list
            assert admin.post("/api/user/manage", json={"username": "bob", "action": "disable"}).json()["success"]
            assert admin.post("/api/user/manage", json={"username": "carl", "action": "delete"}).json()["success"]
            assert admin.post("/api/user/manage", json={"username": "dave", "action": "demote"}).json()["success"]

        def refused_everywhere() -> None:
            for _ in range(8):  # fresh connections: both workers answer some of them
                assert _fresh(node.url, "/api/user/self", cookies["bob"])["success"] is False
                assert _fresh(node.url, "/api/user/self", token=bob_token) == BANNED
                assert _fresh(node.url, "/api/user/self", cookies["carl"])["success"] is False
                assert _fresh(node.url, "/api/user/", cookies["dave"])["success"] is False
                assert _fresh(node.url, "/api/user/self", cookies["erin"])["data"]["username"] == "erin"

        refused_everywhere()
        node.stop()
        node.start()  # same database, same SESSION_SECRET: the old cookies are still well signed
        refused_everywhere()
    finally:
        node.stop()
