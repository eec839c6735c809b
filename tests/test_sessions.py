"""The session table and the auth cache: caps, expiry, and no stale entry after an invalidation."""

from __future__ import annotations

import time

import httpx
from sqlalchemy import func, select, update

from master.auth_cache import MISSING, AuthCache, CurrentUser, SessionOwner
from master.db.schema import sessions
from master.sessions import MAX_SESSIONS_PER_USER, prune_expired_sessions, session_owner, start_session, user_state


class Clock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def test_cache_entries_age_out_and_the_map_is_capped() -> None:
    clock = Clock()
    cache = AuthCache(capacity=3, ttl=10, clock=clock)
    for user_id in (1, 2, 3, 4):
        cache.put_user(user_id, CurrentUser(user_id, f"u{user_id}", 1, 1), cache.generation)
    assert cache.user(1) is MISSING and cache.user(4) == CurrentUser(4, "u4", 1, 1)  # the oldest went
    cache.put_session("k", None, cache.generation)  # known absent is cached too
    assert cache.session("k") is None
    clock.now = 11
    assert cache.user(4) is MISSING and cache.session("k") is MISSING


def test_a_read_that_raced_with_an_invalidation_is_not_stored() -> None:
    cache = AuthCache()
    started = cache.generation  # a request starts reading the user's row
    cache.forget_user(7)  # meanwhile an admin demotes the user
    cache.put_user(7, CurrentUser(7, "boss", 10, 1), started)  # the row read before the change
    assert cache.user(7) is MISSING
    started = cache.generation
    cache.forget_all_sessions()
    cache.put_session("k", SessionOwner(7, 2**40), started)
    assert cache.session("k") is MISSING


async def test_a_user_holds_a_bounded_number_of_sessions(master: tuple[object, httpx.AsyncClient]) -> None:
    ctx = master[0].state.ctx  # type: ignore[attr-defined]
    sids = [await start_session(ctx, 1) for _ in range(MAX_SESSIONS_PER_USER + 2)]
    assert [await session_owner(ctx, sid) for sid in sids[:2]] == [None, None]  # the oldest ended
    assert {await session_owner(ctx, sid) for sid in sids[2:]} == {1}
    async with ctx.store.main.connect() as conn:
        assert (
            await conn.execute(select(func.count()).select_from(sessions).where(sessions.c.user_id == 1))
        ).scalar() == MAX_SESSIONS_PER_USER


async def test_expired_sessions_end_and_are_pruned(master: tuple[object, httpx.AsyncClient]) -> None:
    ctx = master[0].state.ctx  # type: ignore[attr-defined]
    sid, kept = await start_session(ctx, 1), await start_session(ctx, 1)
    async with ctx.store.main.begin() as conn:
        await conn.execute(
            update(sessions)
            .where(sessions.c.id == select(func.min(sessions.c.id)).scalar_subquery())
            .values(expires_at=int(time.time()) - 1)
        )
    ctx.auth.forget_all_sessions()
    assert await session_owner(ctx, sid) is None and await session_owner(ctx, kept) == 1
    assert await prune_expired_sessions(ctx) == 1
    root = await user_state(ctx, 1)
    assert root is not None and root.username == "root" and root.role == 100
    assert await user_state(ctx, 0) is None and await user_state(ctx, 2**40) is None
