"""Login, logout, registration, the auth levels, e-mail codes, password reset and OAuth
(docs/one-api-compat.md §4.2–§4.4, §8), on every database backend."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator

import httpx
import pytest
from sqlalchemy import select

from master.db.schema import logs, users
from tests.support.app import client_for, login, make_user, running_master
from tests.support.services import FreshDatabase
from tests.test_users import USER_FIELDS  # the User JSON's keys, in One API's order

NO_LOGIN = {"success": False, "message": "无权进行此操作，未登录且未提供 access token"}
NO_RIGHT = {"success": False, "message": "无权进行此操作，权限不足"}
BANNED = {"success": False, "message": "用户已被封禁"}
WRONG = {"success": False, "message": "用户名或密码错误，或用户已被封禁"}

USER_ROUTES = [
    ("GET", "/api/user/self"),
    ("PUT", "/api/user/self"),
    ("DELETE", "/api/user/self"),
    ("GET", "/api/user/token"),
    ("GET", "/api/user/aff"),
    ("POST", "/api/user/topup"),
    ("GET", "/api/user/available_models"),
    ("GET", "/api/user/dashboard"),
    ("GET", "/api/oauth/wechat/bind"),
    ("GET", "/api/oauth/email/bind"),
]
ADMIN_ROUTES = [
    ("GET", "/api/user/"),
    ("POST", "/api/user/"),
    ("PUT", "/api/user/"),
    ("GET", "/api/user/search"),
    ("GET", "/api/user/1"),
    ("DELETE", "/api/user/1"),
    ("POST", "/api/user/manage"),
    ("POST", "/api/topup"),
]


@pytest.fixture
async def sqlite_master(sqlite_database: FreshDatabase) -> AsyncIterator[tuple[object, httpx.AsyncClient]]:
    """A master on SQLite alone, for behaviour that does not depend on the database backend."""
    async with running_master(sqlite_database.env()) as pair:
        yield pair


@pytest.fixture
async def sqlite_root(sqlite_master: tuple[object, httpx.AsyncClient]) -> httpx.AsyncClient:
    client = sqlite_master[1]
    assert (await login(client, "root", "123456")).json()["success"]
    return client


def options(app: object) -> dict[str, str]:
    return app.state.ctx.options.values  # type: ignore[attr-defined]


async def user_row(app: object, username: str) -> dict:
    async with app.state.ctx.store.main.connect() as conn:  # type: ignore[attr-defined]
        return dict((await conn.execute(select(users).where(users.c.username == username))).mappings().one())


async def test_login_answers_a_bare_user_and_opens_a_session(client: httpx.AsyncClient) -> None:
    resp = await login(client, "root", "123456")
    body = resp.json()
    assert body["success"] is True and body["message"] == ""
    assert list(body["data"]) == USER_FIELDS
    expected = dict.fromkeys(USER_FIELDS, "")
    expected.update(
        id=1,
        username="root",
        display_name="Root User",
        role=100,
        status=1,
        quota=0,
        used_quota=0,
        request_count=0,
        inviter_id=0,
        rpm_limit=0,
        tpm_limit=0,
        max_parallel_requests=0,
    )
    assert body["data"] == expected
    assert "session=" in resp.headers["set-cookie"]
    me = (await client.get("/api/user/self")).json()
    assert me["success"] is True and me["data"]["username"] == "root" and me["data"]["role"] == 100
    update = await client.put("/api/user/", json={"id": 1, "email": "root@example.com", "role": 100})
    assert update.json() == {"success": True, "message": ""}
    assert (await client.get("/api/user/logout")).json() == {"success": True, "message": ""}
    resp = await client.get("/api/user/self")
    assert resp.status_code == 401 and resp.json() == NO_LOGIN
    by_email = await login(client, "root@example.com", "123456")
    assert by_email.json()["data"]["username"] == "root"


async def test_login_failures(sqlite_master: tuple[object, httpx.AsyncClient]) -> None:
    app, client = sqlite_master
    assert (await client.post("/api/user/login", json={"username": "root", "password": "wrong-pass"})).json() == WRONG
    assert (await client.post("/api/user/login", json={"username": "nobody", "password": "123456"})).json() == WRONG
    invalid = {"success": False, "message": "invalid parameter"}
    for body in (b"{not json", b"[1,2]", b"", b'{"username": 5, "password": "x"}'):
        resp = await client.post("/api/user/login", content=body)
        assert resp.status_code == 200 and resp.json() == invalid
    assert (await client.post("/api/user/login", json={"username": "root", "password": ""})).json() == invalid
    zh = await client.post("/api/user/login", content=b"{", headers={"Accept-Language": "zh-CN,zh;q=0.9"})
    assert zh.json() == {"success": False, "message": "无效的参数"}
    options(app)["PasswordLoginEnabled"] = "false"
    off = await client.post("/api/user/login", json={"username": "root", "password": "123456"})
    assert off.json() == {"success": False, "message": "管理员关闭了密码登录"}


async def test_auth_levels_and_access_tokens(master: tuple[object, httpx.AsyncClient]) -> None:
    app, client = master
    for method, path in USER_ROUTES + ADMIN_ROUTES:
        resp = await client.request(method, path)
        assert resp.status_code == 401, (method, path)
        assert resp.json() == NO_LOGIN, (method, path)
    await login(client, "root", "123456")
    alice = await make_user(client, app, "alice")
    for method, path in ADMIN_ROUTES:
        resp = await alice.request(method, path)
        assert resp.status_code == 200 and resp.json() == NO_RIGHT, (method, path)
    assert (await alice.get("/api/user/self")).json()["data"]["username"] == "alice"
    await alice.aclose()
    token = (await client.get("/api/user/token")).json()["data"]
    assert re.fullmatch(r"[0-9a-f]{32}", token)
    anonymous = client_for(app)
    for header in (token, f"Bearer {token}"):
        resp = await anonymous.get("/api/user/", headers={"Authorization": header})
        assert resp.json()["success"] is True, header
        rows = {u["username"]: u for u in resp.json()["data"]}
        assert rows["root"]["access_token"] == "" and rows["root"]["password"] == ""  # never listed
    bad = await anonymous.get("/api/user/self", headers={"Authorization": "Bearer nope"})
    assert bad.status_code == 200
    assert bad.json() == {"success": False, "message": "无权进行此操作，access token 无效"}
    await anonymous.aclose()


async def test_disabled_user_cannot_log_in_and_loses_its_session(
    master: tuple[object, httpx.AsyncClient], root_client: httpx.AsyncClient
) -> None:
    app, _ = master
    bob = await make_user(root_client, app, "bob")
    assert (await bob.get("/api/user/self")).json()["success"] is True
    resp = await root_client.post("/api/user/manage", json={"username": "bob", "action": "disable"})
    assert resp.json()["data"]["status"] == 2
    assert (await bob.get("/api/user/self")).json() == BANNED
    # The ban cleared the session: the next call has no credentials at all.
    assert (await bob.get("/api/user/self")).status_code == 401
    assert (await bob.post("/api/user/login", json={"username": "bob", "password": "password123"})).json() == WRONG
    await root_client.post("/api/user/manage", json={"username": "bob", "action": "enable"})
    assert (await login(bob, "bob", "password123")).json()["success"] is True
    assert (await bob.get("/api/user/self")).json()["success"] is True
    await bob.aclose()


async def test_register(master: tuple[object, httpx.AsyncClient], root_client: httpx.AsyncClient) -> None:
    app, client = master
    opts = options(app)
    opts["QuotaForInviter"], opts["QuotaForInvitee"] = "300", "200"
    root_aff = (await root_client.get("/api/user/aff")).json()["data"]
    anonymous = client_for(app)
    ok = await anonymous.post("/api/user/register", json={"username": "carol", "password": "password123", "aff_code": root_aff})
    assert ok.json() == {"success": True, "message": ""}
    assert (await anonymous.get("/api/user/self")).status_code == 401  # registration does not log in
    carol = await user_row(app, "carol")
    assert carol["inviter_id"] == 1 and carol["quota"] == 200 and carol["display_name"] == "carol"
    dup = await anonymous.post("/api/user/register", json={"username": "carol", "password": "password123"})
    assert dup.json() == {"success": False, "message": "用户名 carol 已被占用"}
    invalid = {"success": False, "message": "Invalid input, please check your input"}
    for body in (
        {"username": "x" * 13, "password": "password123"},
        {"username": "dave", "password": "short"},
        {"username": "dave", "password": "p" * 21},
        {"username": "dave", "password": "password123", "email": "e" * 51},
    ):
        assert (await anonymous.post("/api/user/register", json=body)).json() == invalid
    assert (await anonymous.post("/api/user/register", content=b"{oops")).json() == {"success": False, "message": "invalid parameter"}
    opts["PasswordRegisterEnabled"] = "false"
    resp = await anonymous.post("/api/user/register", json={"username": "dave", "password": "password123"})
    assert resp.json()["message"] == "管理员关闭了通过密码进行注册，请使用第三方账户验证的形式进行注册"
    opts["RegisterEnabled"] = "false"
    resp = await anonymous.post("/api/user/register", json={"username": "dave", "password": "password123"})
    assert resp.json() == {"success": False, "message": "管理员关闭了新用户注册"}
    await anonymous.aclose()


async def test_register_with_email_verification(sqlite_master: tuple[object, httpx.AsyncClient]) -> None:
    app, client = sqlite_master
    options(app)["EmailVerificationEnabled"] = "true"
    body = {"username": "erin", "password": "password123"}
    missing = await client.post("/api/user/register", json=body)
    assert missing.json() == {"success": False, "message": "管理员开启了邮箱验证，请输入邮箱地址和验证码"}
    wrong = await client.post("/api/user/register", json={**body, "email": "erin@example.com", "verification_code": "zzzzzz"})
    assert wrong.json() == {"success": False, "message": "验证码错误或已过期"}
    # No SMTP server is configured: the code is kept but the mail cannot go out.
    sent = await client.get("/api/verification", params={"email": "erin@example.com"})
    assert sent.json() == {"success": False, "message": "failed to send email: SMTP server is not configured"}
    sent_zh = await client.get("/api/verification", params={"email": "erin@example.com"}, headers={"Accept-Language": "zh"})
    assert sent_zh.json() == {"success": False, "message": "发送邮件失败：SMTP 服务器未配置"}
    code = app.state.verification_codes.codes["verin@example.com"][0]  # type: ignore[attr-defined]
    assert re.fullmatch(r"[0-9a-f]{6}", code)
    done = await client.post("/api/user/register", json={**body, "email": "erin@example.com", "verification_code": code})
    assert done.json() == {"success": True, "message": ""}
    assert (await user_row(app, "erin"))["email"] == "erin@example.com"
    taken = await client.get("/api/verification", params={"email": "erin@example.com"})
    assert taken.json() == {"success": False, "message": "邮箱地址已被占用"}


async def test_verification_and_password_reset(sqlite_master: tuple[object, httpx.AsyncClient], sqlite_root: httpx.AsyncClient) -> None:
    app, client = sqlite_master
    invalid = {"success": False, "message": "invalid parameter"}
    for path in ("/api/verification", "/api/reset_password"):
        assert (await client.get(path, params={"email": "not-an-email"})).json() == invalid
        assert (await client.get(path)).json() == invalid
    options(app)["EmailDomainRestrictionEnabled"] = "true"
    outside = await client.get("/api/verification", params={"email": "x@example.org"})
    assert outside.json()["message"] == "管理员启用了邮箱域名白名单，您的邮箱地址的域名不在白名单中"
    unknown = await client.get("/api/reset_password", params={"email": "ghost@example.com"})
    assert unknown.json() == {"success": False, "message": "该邮箱地址未注册"}
    await sqlite_root.put("/api/user/", json={"id": 1, "email": "root@example.com"})
    sent = await client.get("/api/reset_password", params={"email": "root@example.com"})
    assert sent.json() == {"success": False, "message": "failed to send email: SMTP server is not configured"}
    token = app.state.verification_codes.codes["rroot@example.com"][0]  # type: ignore[attr-defined]
    bad = await client.post("/api/user/reset", json={"email": "root@example.com", "token": "0" * 32})
    assert bad.json() == {"success": False, "message": "重置链接非法或已过期"}
    assert (await client.post("/api/user/reset", json={"email": "root@example.com"})).json() == invalid
    assert (await client.post("/api/user/reset", content=b"nope")).json() == invalid
    reset = (await client.post("/api/user/reset", json={"email": "root@example.com", "token": token})).json()
    assert reset["success"] is True and re.fullmatch(r"[0-9a-f]{12}", reset["data"])
    assert (await client.post("/api/user/login", json={"username": "root", "password": "123456"})).json() == WRONG
    assert (await login(client, "root", reset["data"])).json()["success"] is True
    # A reset token works once.
    again = await client.post("/api/user/reset", json={"email": "root@example.com", "token": token})
    assert again.json()["message"] == "重置链接非法或已过期"


async def test_turnstile_needs_a_token(sqlite_master: tuple[object, httpx.AsyncClient]) -> None:
    app, client = sqlite_master
    options(app)["TurnstileCheckEnabled"] = "true"
    empty = {"success": False, "message": "Turnstile token 为空"}
    assert (await client.post("/api/user/register", json={"username": "x", "password": "password123"})).json() == empty
    assert (await client.get("/api/verification", params={"email": "a@b.com"})).json() == empty
    # Login is not behind Turnstile.
    assert (await login(client, "root", "123456")).json()["success"] is True


async def test_critical_rate_limit_is_a_bare_429(sqlite_master: tuple[object, httpx.AsyncClient]) -> None:
    _, client = sqlite_master
    for _ in range(20):
        resp = await client.post("/api/user/login", json={"username": "nobody", "password": "whatever1"})
        assert resp.json() == WRONG
    limited = await client.post("/api/user/login", json={"username": "root", "password": "123456"})
    assert limited.status_code == 429 and limited.content == b""
    assert (await client.get("/api/oauth/state")).status_code == 429


async def test_oauth_state_and_switched_off_providers(
    sqlite_master: tuple[object, httpx.AsyncClient], sqlite_root: httpx.AsyncClient
) -> None:
    app, client = sqlite_master
    anonymous = client_for(app)
    mismatch = {"success": False, "message": "state is empty or not same"}
    for provider in ("github", "lark", "oidc"):
        resp = await anonymous.get(f"/api/oauth/{provider}", params={"code": "c"})
        assert resp.status_code == 403 and resp.json() == mismatch
    state = (await anonymous.get("/api/oauth/state")).json()
    assert state["success"] is True and re.fullmatch(r"[0-9A-Za-z]{12}", state["data"])
    wrong = await anonymous.get("/api/oauth/github", params={"code": "c", "state": "x" * 12})
    assert wrong.status_code == 403 and wrong.json() == mismatch
    query = {"code": "c", "state": state["data"]}
    github = await anonymous.get("/api/oauth/github", params=query)
    assert github.json() == {"success": False, "message": "管理员未开启通过 GitHub 登录以及注册"}
    oidc = await anonymous.get("/api/oauth/oidc", params=query)
    assert oidc.json() == {"success": False, "message": "管理员未开启通过 OIDC 登录以及注册"}
    lark = await anonymous.get("/api/oauth/lark", params={"state": state["data"]})
    assert lark.json() == {"success": False, "message": "无效的参数"}
    wechat_off = {"success": False, "message": "管理员未开启通过微信登录以及注册"}
    assert (await anonymous.get("/api/oauth/wechat", params={"code": "c"})).json() == wechat_off
    assert (await anonymous.get("/api/oauth/wechat/bind", params={"code": "c"})).status_code == 401
    assert (await sqlite_root.get("/api/oauth/wechat/bind", params={"code": "c"})).json() == wechat_off
    options(app)["WeChatAuthEnabled"] = "true"
    assert (await anonymous.get("/api/oauth/wechat")).json() == {"success": False, "message": "无效的参数"}
    await anonymous.aclose()


def fake_github(logins: dict[str, dict]) -> httpx.MockTransport:
    """GitHub's token and user endpoints; the code picks the user."""

    def handle(request: httpx.Request) -> httpx.Response:
        if request.url.path == "/login/oauth/access_token":
            import json

            return httpx.Response(200, json={"access_token": "tok-" + json.loads(request.content)["code"]})
        code = request.headers["authorization"].removeprefix("Bearer tok-")
        return httpx.Response(200, json=logins.get(code, {"message": "Bad credentials"}))

    return httpx.MockTransport(handle)


async def test_github_login_registers_logs_in_and_binds(
    sqlite_master: tuple[object, httpx.AsyncClient], sqlite_root: httpx.AsyncClient
) -> None:
    app, _ = sqlite_master
    options(app)["GitHubOAuthEnabled"] = "true"
    app.state.oauth_transport = fake_github(  # type: ignore[attr-defined]
        {"a": {"login": "octo", "name": "Octo Cat", "email": "octo@example.com"}, "b": {"login": "hubot", "name": None}}
    )
    guest = client_for(app)
    state = (await guest.get("/api/oauth/state")).json()["data"]
    first = (await guest.get("/api/oauth/github", params={"code": "a", "state": state})).json()
    assert first["success"] is True and first["data"]["username"] == "github_2"
    assert first["data"]["display_name"] == "Octo Cat"
    row = await user_row(app, "github_2")
    assert row["github_id"] == "octo" and row["email"] == "octo@example.com"
    await guest.get("/api/user/logout")
    state = (await guest.get("/api/oauth/state")).json()["data"]
    again = (await guest.get("/api/oauth/github", params={"code": "a", "state": state})).json()
    assert again["data"]["id"] == row["id"]
    failed = await guest.get("/api/oauth/github", params={"code": "zzz", "state": state})
    assert failed.json() == {"success": False, "message": "返回值非法，用户字段为空，请稍后重试！"}
    # A logged-in session binds instead of logging in.
    state = (await sqlite_root.get("/api/oauth/state")).json()["data"]
    taken = await sqlite_root.get("/api/oauth/github", params={"code": "a", "state": state})
    assert taken.json() == {"success": False, "message": "该 GitHub 账户已被绑定"}
    bound = await sqlite_root.get("/api/oauth/github", params={"code": "b", "state": state})
    assert bound.json() == {"success": True, "message": "bind"}
    assert (await user_row(app, "root"))["github_id"] == "hubot"
    options(app)["RegisterEnabled"] = "false"
    app.state.oauth_transport = fake_github({"c": {"login": "newbie"}})  # type: ignore[attr-defined]
    await guest.get("/api/user/logout")
    state = (await guest.get("/api/oauth/state")).json()["data"]
    closed = await guest.get("/api/oauth/github", params={"code": "c", "state": state})
    assert closed.json() == {"success": False, "message": "管理员关闭了新用户注册"}
    await guest.aclose()


async def test_email_bind(sqlite_master: tuple[object, httpx.AsyncClient], sqlite_root: httpx.AsyncClient) -> None:
    app, client = sqlite_master
    wrong = await sqlite_root.get("/api/oauth/email/bind", params={"email": "r@example.com", "code": "abcdef"})
    assert wrong.json() == {"success": False, "message": "验证码错误或已过期"}
    await client.get("/api/verification", params={"email": "r@example.com"})
    code = app.state.verification_codes.codes["vr@example.com"][0]  # type: ignore[attr-defined]
    bound = await sqlite_root.get("/api/oauth/email/bind", params={"email": "r@example.com", "code": code})
    assert bound.json() == {"success": True, "message": ""}
    assert (await user_row(app, "root"))["email"] == "r@example.com"
    async with app.state.ctx.store.logs.connect() as conn:  # type: ignore[attr-defined]
        assert (await conn.execute(select(logs.c.id))).all() == []  # binding writes no log
