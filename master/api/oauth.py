"""E-mail verification, password reset and third-party login (docs/one-api-compat.md §4.3 and §4.4). Every
route here sits behind the critical rate limit."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from sqlalchemy import exists, select
from starlette.requests import Request
from starlette.responses import Response

from master.api.common import BadBody, critical_rate_limit, current, fail, msg, ok, read_json, route, session_user, user_auth
from master.api.users import setup_login
from master.context import get_ctx
from master.db.schema import users
from master.sessions import end_user_sessions
from master.users.accounts import hash_password_async
from master.users.model import USER_ENABLED, BodyTypeError, insert_user, string_field, update_nonzero
from master.users.oauth import ExternalUser, OAuthError, github_user, lark_user, oidc_user, wechat_id
from master.users.verify import (
    EMAIL_VERIFICATION,
    PASSWORD_RESET,
    MailError,
    code_store,
    domain_allowed,
    send_email,
    turnstile_check,
    valid_email,
)
from shared.keys import random_alnum, uuid_hex

STATE_MISMATCH = "state is empty or not same"


async def _email_taken(request: Request, email: str) -> bool:
    async with get_ctx(request).store.main.connect() as conn:
        return bool((await conn.execute(select(exists().where(users.c.email == email)))).scalar())


@critical_rate_limit
async def send_verification(request: Request) -> Response:
    refused = await turnstile_check(request)
    if refused is not None:
        return refused
    email = request.query_params.get("email", "")
    if not valid_email(email):
        return fail(msg(request, "invalid_parameter"))
    if not domain_allowed(request, email):
        return fail("管理员启用了邮箱域名白名单，您的邮箱地址的域名不在白名单中")
    if await _email_taken(request, email):
        return fail("邮箱地址已被占用")
    code = uuid_hex()[:6]
    code_store(request).register(email, code, EMAIL_VERIFICATION)
    system = get_ctx(request).options.get("SystemName")
    content = (
        f"<p>您好，你正在进行{system}邮箱验证。</p><p>您的验证码为: <strong>{code}</strong></p>"
        "<p>验证码 10 分钟内有效，如果不是本人操作，请忽略。</p>"
    )
    return await _mail(request, f"{system} 邮箱验证邮件", email, content)


async def _mail(request: Request, subject: str, email: str, content: str) -> Response:
    """Send, and answer as One API does: ok, or send_email_failed + the reason."""
    try:
        await send_email(request, subject, email, content)
    except MailError as exc:
        return fail(msg(request, "send_email_failed") + str(exc))
    return ok()


@critical_rate_limit
async def send_password_reset(request: Request) -> Response:
    refused = await turnstile_check(request)
    if refused is not None:
        return refused
    email = request.query_params.get("email", "")
    if not valid_email(email):
        return fail(msg(request, "invalid_parameter"))
    if not await _email_taken(request, email):
        return fail("该邮箱地址未注册")
    token = uuid_hex()
    code_store(request).register(email, token, PASSWORD_RESET)
    options = get_ctx(request).options
    link = f"{options.server_address}/user/reset?email={email}&token={token}"
    content = (
        f"<p>您好，你正在进行{options.get('SystemName')}密码重置。</p>"
        f'<p>点击 <a href="{link}">此处</a> 进行密码重置。</p>'
        f"<p>如果链接无法点击，请尝试复制以下链接到浏览器中打开：<br>{link}</p>"
        "<p>重置链接 10 分钟内有效，如果不是本人操作，请忽略。</p>"
    )
    return await _mail(request, f"{options.get('SystemName')} 密码重置", email, content)


@critical_rate_limit
async def reset_password(request: Request) -> Response:
    try:
        body = await read_json(request)
        email, token = string_field(body, "email"), string_field(body, "token")
    except (BadBody, BodyTypeError):
        return fail(msg(request, "invalid_parameter"))
    if not email or not token:
        return fail(msg(request, "invalid_parameter"))
    store = code_store(request)
    if not store.verify(email, token, PASSWORD_RESET):
        return fail("重置链接非法或已过期")
    password = uuid_hex()[:12]
    ctx = get_ctx(request)
    hashed = await hash_password_async(password)
    async with ctx.store.main.begin() as conn:
        owners = (await conn.execute(select(users.c.id).where(users.c.email == email))).scalars().all()
        await conn.execute(users.update().where(users.c.email == email).values(password=hashed))
    await end_user_sessions(ctx, owners)  # a reset password ends the sessions the old one opened
    store.delete(email, PASSWORD_RESET)
    await ctx.changed("user")
    return ok(password)


@critical_rate_limit
async def oauth_state(request: Request) -> Response:
    state = random_alnum(12)
    request.session["oauth_state"] = state
    return ok(state)


async def _login_or_register(request: Request, column: str, external: ExternalUser, prefix: str) -> Response:
    """Log in the user holding `external.id` in `column`, or register one (when registration is on)."""
    ctx = get_ctx(request)
    async with ctx.store.main.connect() as conn:
        row = (await conn.execute(select(users).where(users.c[column] == external.id).limit(1))).mappings().first()
        if row is None:
            if not ctx.options.flag("RegisterEnabled"):
                return fail("管理员关闭了新用户注册")
            max_id = (await conn.execute(select(users.c.id).order_by(users.c.id.desc()).limit(1))).scalar() or 0
    if row is None:
        username = external.username or f"{prefix}_{max_id + 1}"
        user_id, error = await insert_user(ctx, username, "", external.display_name, external.email, extra={column: external.id})
        if error:
            return fail(error)
        async with ctx.store.main.connect() as conn:
            row = (await conn.execute(select(users).where(users.c.id == user_id))).mappings().first()
    if row is None or row["status"] != USER_ENABLED:
        return fail("用户已被封禁")
    return await setup_login(request, dict(row))


async def _bind(request: Request, user_id: int, column: str, external_id: str, taken: str, done: str) -> Response:
    """Attach an external id to `user_id`, unless another user already holds it."""
    ctx = get_ctx(request)
    async with ctx.store.main.connect() as conn:
        if (await conn.execute(select(exists().where(users.c[column] == external_id)))).scalar():
            return fail(taken)
        if not (await conn.execute(select(exists().where(users.c.id == user_id)))).scalar():
            return fail("record not found")
    error = await update_nonzero(ctx, user_id, {column: external_id}, hash_new_password=False)
    return fail(error) if error else ok(message=done)


Fetch = Callable[[Request, str], Awaitable[ExternalUser]]


def _provider(fetch: Fetch, column: str, prefix: str, enable_flag: str, disabled: str, taken: str) -> Callable:
    """GitHub, Lark and OIDC share one shape: state check (403), enable flag, code exchange, then
    bind (a session is logged in) or login-or-register."""

    @critical_rate_limit
    async def handler(request: Request) -> Response:
        state = request.query_params.get("state", "")
        if not state or state != request.session.get("oauth_state"):
            return fail(STATE_MISMATCH, status=403)
        if enable_flag and not get_ctx(request).options.flag(enable_flag):
            return fail(disabled)
        try:
            external = await fetch(request, request.query_params.get("code", ""))
        except OAuthError as exc:
            return fail(str(exc))
        me = await session_user(request)
        if me is not None and me.status == USER_ENABLED:
            # Binding needs a live session: an access token alone cannot bind (One API's rule).
            return await _bind(request, me.id, column, external.id, taken, "bind")
        return await _login_or_register(request, column, external, prefix)

    handler.__name__ = f"{prefix}_oauth"
    return handler


github = _provider(
    github_user, "github_id", "github", "GitHubOAuthEnabled", "管理员未开启通过 GitHub 登录以及注册", "该 GitHub 账户已被绑定"
)
lark = _provider(lark_user, "lark_id", "lark", "", "", "该飞书账户已被绑定")
oidc = _provider(oidc_user, "oidc_id", "oidc", "OidcEnabled", "管理员未开启通过 OIDC 登录以及注册", "该 OIDC 账户已被绑定")

WECHAT_DISABLED = "管理员未开启通过微信登录以及注册"


@critical_rate_limit
async def wechat(request: Request) -> Response:
    if not get_ctx(request).options.flag("WeChatAuthEnabled"):
        return fail(WECHAT_DISABLED)
    try:
        found = await wechat_id(request, request.query_params.get("code", ""))
    except OAuthError as exc:
        return fail(str(exc))
    return await _login_or_register(request, "wechat_id", ExternalUser(id=found, display_name="WeChat User"), "wechat")


@critical_rate_limit
@user_auth
async def wechat_bind(request: Request) -> Response:
    if not get_ctx(request).options.flag("WeChatAuthEnabled"):
        return fail(WECHAT_DISABLED)
    try:
        found = await wechat_id(request, request.query_params.get("code", ""))
    except OAuthError as exc:
        return fail(str(exc))
    return await _bind(request, current(request).id, "wechat_id", found, "该微信账号已被绑定", "")


@critical_rate_limit
@user_auth
async def email_bind(request: Request) -> Response:
    email = request.query_params.get("email", "")
    code = request.query_params.get("code", "")
    if not code_store(request).verify(email, code, EMAIL_VERIFICATION):
        return fail("验证码错误或已过期")
    # The verification code proved the address was free when it was sent; One API does not re-check.
    error = await update_nonzero(get_ctx(request), current(request).id, {"email": email}, hash_new_password=False)
    return fail(error) if error else ok()


routes = [
    route("/api/verification", send_verification, ["GET"]),
    route("/api/reset_password", send_password_reset, ["GET"]),
    route("/api/user/reset", reset_password, ["POST"]),
    route("/api/oauth/state", oauth_state, ["GET"]),
    route("/api/oauth/github", github, ["GET"]),
    route("/api/oauth/lark", lark, ["GET"]),
    route("/api/oauth/oidc", oidc, ["GET"]),
    route("/api/oauth/wechat", wechat, ["GET"]),
    route("/api/oauth/wechat/bind", wechat_bind, ["GET"]),
    route("/api/oauth/email/bind", email_bind, ["GET"]),
]
