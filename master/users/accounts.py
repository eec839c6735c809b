"""User creation (the One API new-user flow), password hashing and the root bootstrap."""

from __future__ import annotations

import asyncio
import time

import bcrypt
from sqlalchemy import func, insert, select, text
from sqlalchemy.ext.asyncio import AsyncConnection

from master.access_tokens import stored_form
from master.context import MasterContext
from master.db.rows import inserted_id
from master.db.schema import tokens, users
from master.logbook import LOG_SYSTEM, format_quota, record_log
from shared.keys import generate_token_key, random_alnum, uuid_hex
from shared.logs import get_logger

log = get_logger(__name__)

ROOT_QUOTA = 500_000_000_000_000


def hash_password(password: str) -> str:
    return bcrypt.hashpw(password.encode(), bcrypt.gensalt(rounds=10)).decode()


def _check(password: str, hashed: str) -> bool:
    try:
        return bcrypt.checkpw(password.encode(), hashed.encode())
    except ValueError:
        return False


async def verify_password(password: str, hashed: str) -> bool:
    """bcrypt off the event loop: a check costs tens of milliseconds."""
    return await asyncio.to_thread(_check, password, hashed)


async def hash_password_async(password: str) -> str:
    return await asyncio.to_thread(hash_password, password)


async def create_user(
    ctx: MasterContext,
    username: str,
    password: str,
    display_name: str = "",
    email: str = "",
    inviter_id: int = 0,
    extra: dict | None = None,
) -> int:
    """Insert a common user with the new-user quota, bonuses, and a default unlimited token.

    Raises the database's integrity error for a taken username (callers answer with its text).
    """
    quota_new = ctx.options.integer("QuotaForNewUser")
    hashed = await hash_password_async(password) if password else ""
    now = int(time.time())
    async with ctx.store.main.begin() as conn:
        values = {
            "username": username,
            "password": hashed,
            "display_name": display_name or username,
            "role": 1,
            "status": 1,
            "email": email,
            "access_token": stored_form(uuid_hex()),  # nobody knows it: the user generates one
            "aff_code": random_alnum(4),
            "quota": quota_new,
            "group": "default",
            "inviter_id": inviter_id,
            **(extra or {}),
        }
        user_id = inserted_id(await conn.execute(insert(users).values(**values)))
    if quota_new > 0:
        await record_log(ctx, user_id, LOG_SYSTEM, f"新用户注册赠送 {format_quota(ctx, quota_new)}")
    if inviter_id:
        bonus_invitee = ctx.options.integer("QuotaForInvitee")
        bonus_inviter = ctx.options.integer("QuotaForInviter")
        async with ctx.store.main.begin() as conn:
            if bonus_invitee > 0:
                await conn.execute(users.update().where(users.c.id == user_id).values(quota=users.c.quota + bonus_invitee))
            if bonus_inviter > 0:
                await conn.execute(users.update().where(users.c.id == inviter_id).values(quota=users.c.quota + bonus_inviter))
        if bonus_invitee > 0:
            await record_log(ctx, user_id, LOG_SYSTEM, f"使用邀请码赠送 {format_quota(ctx, bonus_invitee)}")
        if bonus_inviter > 0:
            await record_log(ctx, inviter_id, LOG_SYSTEM, f"邀请用户赠送 {format_quota(ctx, bonus_inviter)}")
    try:
        async with ctx.store.main.begin() as conn:
            await conn.execute(
                insert(tokens).values(
                    user_id=user_id,
                    name="default",
                    key=generate_token_key(),
                    status=1,
                    created_time=now,
                    accessed_time=now,
                    expired_time=-1,
                    remain_quota=-1,
                    unlimited_quota=True,
                    used_quota=0,
                )
            )
    except Exception:  # One API only logs this failure
        log.exception("creating the default token failed", user_id=user_id)
    await ctx.changed("user")
    return int(user_id)


async def ensure_root(ctx: MasterContext) -> None:
    """With an empty users table, create root/123456 (and the INITIAL_ROOT_* credentials)."""
    settings = ctx.settings
    async with ctx.store.main.begin() as conn:
        count = (await conn.execute(select(func.count()).select_from(users))).scalar_one()
        if count:
            await _warn_default_password(conn)
            return
        now = int(time.time())
        root_id = inserted_id(
            await conn.execute(
                insert(users).values(
                    username="root",
                    password=await hash_password_async("123456"),
                    role=100,
                    status=1,
                    display_name="Root User",
                    access_token=stored_form(settings.initial_root_access_token or uuid_hex()),
                    aff_code=random_alnum(4),
                    quota=ROOT_QUOTA,
                    group="default",
                    inviter_id=0,
                )
            )
        )
        if settings.initial_root_token:
            await conn.execute(
                insert(tokens).values(
                    id=1,
                    user_id=root_id,
                    key=settings.initial_root_token,
                    status=1,
                    name="Initial Root Token",
                    created_time=now,
                    accessed_time=now,
                    expired_time=-1,
                    remain_quota=ROOT_QUOTA,
                    unlimited_quota=True,
                    used_quota=0,
                )
            )
            if ctx.store.dialect == "postgresql":  # an explicit id leaves the sequence behind
                await conn.execute(text("SELECT setval(pg_get_serial_sequence('tokens', 'id'), (SELECT MAX(id) FROM tokens))"))
    log.warning("root user created with username root and password 123456: change the password now")


async def _warn_default_password(conn: AsyncConnection) -> None:
    row = (await conn.execute(select(users.c.password).where(users.c.username == "root"))).first()
    if row and row.password and await verify_password("123456", row.password):
        log.warning("the root user still has the default password 123456: change it")
