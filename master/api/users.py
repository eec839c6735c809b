"""/api/user: login, logout and registration (docs/one-api-compat.md §4.3) and the self-service routes of §4.6.
The administration routes of §4.7 live in master/users/admin.py and are registered here, so that
the literal paths come before `/api/user/{id}`."""

from __future__ import annotations

from sqlalchemy import exists, select
from starlette.requests import Request
from starlette.responses import Response

from master.access_tokens import stored_form
from master.api.common import (
    ROLE_ROOT,
    BadBody,
    critical_rate_limit,
    current,
    fail,
    msg,
    ok,
    read_json,
    route,
    same_origin_only,
    user_auth,
)
from master.context import get_ctx
from master.db.schema import users
from master.sessions import end_session, start_session
from master.users import admin as users_admin
from master.users.accounts import verify_password
from master.users.model import (
    USER_ENABLED,
    BodyTypeError,
    decode_user,
    insert_user,
    load_user,
    soft_delete,
    string_field,
    update_nonzero,
    user_json,
    validation_errors,
)
from master.users.verify import EMAIL_VERIFICATION, code_store, turnstile_check
from master.users.wallet import RedeemError, available_models, dashboard, redeem
from shared.keys import random_alnum, uuid_hex

# One API fills an empty password with this so the validator's min/max pass, then drops it.
_PLACEHOLDER_PASSWORD = "$I_LOVE_U"
WRONG_LOGIN = "用户名或密码错误，或用户已被封禁"


async def setup_login(request: Request, user: dict) -> Response:
    """Start a session (under a fresh id) and answer with a User carrying only id, username,
    display name, role and status (every other field at its zero value). The cookie holds no role
    or status: each request reads the user's current ones."""
    await begin_session(request, int(user["id"]), user["username"])
    keep = {k: user[k] for k in ("id", "username", "display_name", "role", "status")}
    return ok(user_json(keep))


async def begin_session(request: Request, user_id: int, username: str) -> None:
    """A new session id in the cookie (other keys, like a pending OAuth state, stay); the session
    the cookie named before, if any, ends."""
    ctx = get_ctx(request)
    previous = request.session.pop("sid", None)
    if isinstance(previous, str) and previous:
        await end_session(ctx, previous)
    for stale in ("role", "status"):  # One API kept these in the cookie; nothing reads them now
        request.session.pop(stale, None)
    request.session["id"] = user_id
    request.session["username"] = username
    request.session["sid"] = await start_session(ctx, user_id)


@critical_rate_limit
async def login(request: Request) -> Response:
    ctx = get_ctx(request)
    if not ctx.options.flag("PasswordLoginEnabled"):
        return fail("管理员关闭了密码登录")
    try:
        body = await read_json(request)
        username, password = string_field(body, "username"), string_field(body, "password")
    except (BadBody, BodyTypeError):
        return fail(msg(request, "invalid_parameter"))
    if not username or not password:
        return fail(msg(request, "invalid_parameter"))
    async with ctx.store.main.connect() as conn:
        # Username first, so nobody can shadow another user by taking their e-mail as a username.
        row = (await conn.execute(select(users).where(users.c.username == username).limit(1))).mappings().first()
        if row is None:
            row = (await conn.execute(select(users).where(users.c.email == username).limit(1))).mappings().first()
    if row is None or not row["password"] or not await verify_password(password, row["password"]):
        return fail(WRONG_LOGIN)
    if row["status"] != USER_ENABLED:
        return fail(WRONG_LOGIN)
    return await setup_login(request, dict(row))


async def logout(request: Request) -> Response:
    """Ends the session itself, so every copy of the cookie stops working, not only this one."""
    sid = request.session.get("sid")
    request.session.clear()
    if isinstance(sid, str) and sid:
        await end_session(get_ctx(request), sid)
    return ok()


@critical_rate_limit
async def register(request: Request) -> Response:
    ctx = get_ctx(request)
    refused = await turnstile_check(request)
    if refused is not None:
        return refused
    if not ctx.options.flag("RegisterEnabled"):
        return fail("管理员关闭了新用户注册")
    if not ctx.options.flag("PasswordRegisterEnabled"):
        return fail("管理员关闭了通过密码进行注册，请使用第三方账户验证的形式进行注册")
    try:
        user = decode_user(await read_json(request))
    except (BadBody, BodyTypeError):
        return fail(msg(request, "invalid_parameter"))
    # An empty username passes One API's validator and creates a nameless account; we refuse it.
    if validation_errors(user) or not user["username"]:
        return fail(msg(request, "invalid_input"))
    email = ""
    if ctx.options.flag("EmailVerificationEnabled"):
        if not user["email"] or not user["verification_code"]:
            return fail("管理员开启了邮箱验证，请输入邮箱地址和验证码")
        if not code_store(request).verify(user["email"], user["verification_code"], EMAIL_VERIFICATION):
            return fail("验证码错误或已过期")
        email = user["email"]
    inviter_id = 0
    if user["aff_code"]:  # the inviter's code
        async with ctx.store.main.connect() as conn:
            inviter_id = (await conn.execute(select(users.c.id).where(users.c.aff_code == user["aff_code"]))).scalar() or 0
    _, error = await insert_user(ctx, user["username"], user["password"], user["username"], email, inviter_id)
    if error:
        return fail(error)
    return ok()


@user_auth
async def get_self(request: Request) -> Response:
    row = await load_user(get_ctx(request), current(request).id)
    if row is None:
        return fail("record not found")
    return ok(user_json(row, omit=("password", "access_token")))


@user_auth
async def update_self(request: Request) -> Response:
    try:
        user = decode_user(await read_json(request))
    except (BadBody, BodyTypeError):
        return fail(msg(request, "invalid_parameter"))
    checked = {**user, "password": user["password"] or _PLACEHOLDER_PASSWORD}
    problems = validation_errors(checked)
    if problems:
        return fail("输入不合法 " + problems)
    fields = {"username": user["username"], "password": user["password"], "display_name": user["display_name"]}
    me = current(request)
    error = await update_nonzero(get_ctx(request), me.id, fields, hash_new_password=bool(user["password"]))
    if error:
        return fail(error)
    if user["password"] and request.session.get("sid"):
        # The change ended every session of the user, copies of this cookie included; the caller
        # proved the session, so it continues under a new id.
        await begin_session(request, me.id, user["username"] or me.username)
    return ok()


@user_auth
async def delete_self(request: Request) -> Response:
    me = current(request)
    if me.role == ROLE_ROOT:
        return fail("不能删除超级管理员账户")
    await soft_delete(get_ctx(request), me.id)
    return ok()


@same_origin_only
@user_auth
async def generate_access_token(request: Request) -> Response:
    ctx = get_ctx(request)
    token = uuid_hex()
    stored = stored_form(token)  # the answer is the only place the plaintext ever appears
    async with ctx.store.main.connect() as conn:
        if (await conn.execute(select(exists().where(users.c.access_token == stored)))).scalar():
            return fail("请重试，系统生成的 UUID 竟然重复了！")
    error = await update_nonzero(ctx, current(request).id, {"access_token": stored}, hash_new_password=False)
    return fail(error) if error else ok(token)


@user_auth
async def get_aff_code(request: Request) -> Response:
    ctx = get_ctx(request)
    row = await load_user(ctx, current(request).id)
    if row is None:
        return fail("record not found")
    code = row["aff_code"] or ""
    if not code:
        code = random_alnum(4)
        error = await update_nonzero(ctx, row["id"], {"aff_code": code}, hash_new_password=False)
        if error:
            return fail(error)
    return ok(code)


@user_auth
async def top_up(request: Request) -> Response:
    try:
        key = string_field(await read_json(request), "key")
    except (BadBody, BodyTypeError):
        return fail(msg(request, "invalid_parameter"))
    try:
        quota = await redeem(get_ctx(request), key, current(request).id)
    except RedeemError as exc:
        return fail(str(exc))
    return ok(quota)


@user_auth
async def get_available_models(request: Request) -> Response:
    models = await available_models(get_ctx(request), current(request).id)
    if models is None:
        return fail("record not found")
    return ok(models)


@user_auth
async def get_dashboard(request: Request) -> Response:
    try:
        data = await dashboard(get_ctx(request), current(request).id)
    except Exception:  # One API answers any query failure with this fixed text
        return fail("无法获取统计信息", data=None)
    return ok(data)


routes = [
    route("/api/user/register", register, ["POST"]),
    route("/api/user/login", login, ["POST"]),
    route("/api/user/logout", logout, ["GET"]),
    route("/api/user/dashboard", get_dashboard, ["GET"]),
    route("/api/user/self", get_self, ["GET"]),
    route("/api/user/self", update_self, ["PUT"]),
    route("/api/user/self", delete_self, ["DELETE"]),
    route("/api/user/token", generate_access_token, ["GET"]),
    route("/api/user/aff", get_aff_code, ["GET"]),
    route("/api/user/topup", top_up, ["POST"]),
    route("/api/user/available_models", get_available_models, ["GET"]),
    *users_admin.routes,
]
