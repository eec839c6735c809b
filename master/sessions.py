"""Login sessions that can be ended, and the current state of the user behind a request.

The cookie (signed by SESSION_SECRET) carries a random session id; the `sessions` table holds its
SHA-256 with the owner and expiry. Deleting the row ends the session for every copy of the cookie:
logout ends one session; a password, role or status change and a delete end all of a user's.
Lookups go through `ctx.auth` (master/auth_cache.py), invalidated by every change made here.
"""

from __future__ import annotations

import hashlib
import secrets
import time
from collections.abc import Iterable

from sqlalchemy import delete, insert, select

from master.auth_cache import MISSING, CurrentUser, SessionOwner
from master.context import MasterContext
from master.db.schema import sessions, users

SESSION_MAX_AGE = 30 * 24 * 3600  # One API's cookie lifetime
MAX_SESSIONS_PER_USER = 20  # logins past this end the user's oldest sessions
INT32_MAX = 2**31 - 1


def session_key(sid: str) -> str:
    return hashlib.sha256(sid.encode()).hexdigest()


async def start_session(ctx: MasterContext, user_id: int) -> str:
    """A new session for `user_id`; returns the id to put in the cookie."""
    sid = secrets.token_urlsafe(32)
    now = int(time.time())
    async with ctx.store.main.begin() as conn:
        await conn.execute(delete(sessions).where(sessions.c.user_id == user_id, sessions.c.expires_at <= now))
        older = (
            (
                await conn.execute(
                    select(sessions.c.id)
                    .where(sessions.c.user_id == user_id)
                    .order_by(sessions.c.id.desc())
                    .offset(MAX_SESSIONS_PER_USER - 1)
                    .limit(MAX_SESSIONS_PER_USER)  # more than one only if the cap was lowered
                )
            )
            .scalars()
            .all()
        )
        if older:
            await conn.execute(delete(sessions).where(sessions.c.id.in_(older)))
        await conn.execute(insert(sessions).values(key=session_key(sid), user_id=user_id, created_at=now, expires_at=now + SESSION_MAX_AGE))
    if older:
        ctx.auth.forget_all_sessions()
    return sid


async def end_session(ctx: MasterContext, sid: str) -> None:
    key = session_key(sid)
    async with ctx.store.main.begin() as conn:
        await conn.execute(delete(sessions).where(sessions.c.key == key))
    ctx.auth.forget_session(key)


async def end_user_sessions(ctx: MasterContext, user_ids: Iterable[int]) -> None:
    """End every session of these users (and forget their cached state)."""
    ids = list(user_ids)
    if not ids:
        return
    async with ctx.store.main.begin() as conn:
        await conn.execute(delete(sessions).where(sessions.c.user_id.in_(ids)))
    for user_id in ids:
        ctx.auth.forget_user(user_id)
    ctx.auth.forget_all_sessions()


async def prune_expired_sessions(ctx: MasterContext) -> int:
    async with ctx.store.main.begin() as conn:
        return (await conn.execute(delete(sessions).where(sessions.c.expires_at <= int(time.time())))).rowcount or 0


async def session_owner(ctx: MasterContext, sid: str) -> int | None:
    """The user id of a live session, or None when it ended or expired."""
    key = session_key(sid)
    owner = ctx.auth.session(key)
    if owner is MISSING:
        generation = ctx.auth.generation
        async with ctx.store.main.connect() as conn:
            row = (await conn.execute(select(sessions.c.user_id, sessions.c.expires_at).where(sessions.c.key == key))).first()
        owner = SessionOwner(user_id=int(row.user_id), expires_at=int(row.expires_at)) if row else None
        ctx.auth.put_session(key, owner, generation)
    if owner is None or owner.expires_at <= time.time():  # type: ignore[union-attr]
        return None
    return owner.user_id  # type: ignore[union-attr]


async def user_state(ctx: MasterContext, user_id: int) -> CurrentUser | None:
    """The user's current id, username, role and status, or None when there is no such row."""
    if not 0 < user_id <= INT32_MAX:
        return None
    state = ctx.auth.user(user_id)
    if state is MISSING:
        generation = ctx.auth.generation
        async with ctx.store.main.connect() as conn:
            row = (
                await conn.execute(select(users.c.id, users.c.username, users.c.role, users.c.status).where(users.c.id == user_id))
            ).first()
        state = CurrentUser(id=row.id, username=row.username or "", role=int(row.role or 0), status=int(row.status or 0)) if row else None
        ctx.auth.put_user(user_id, state, generation)
    return state  # type: ignore[return-value]
