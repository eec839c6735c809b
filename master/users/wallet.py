"""A user's money and usage: redeeming a code, admin top-ups, the 7-day dashboard, available models."""

from __future__ import annotations

import time
from collections import defaultdict
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import and_, select
from sqlalchemy.exc import DBAPIError

from master.context import MasterContext
from master.db.schema import abilities, logs, redemptions, users
from master.logbook import LOG_CONSUME, LOG_TOPUP, format_quota, record_log
from master.users.model import INT32_MAX

REDEMPTION_ENABLED, REDEMPTION_USED = 1, 3
DAY = 86400


class RedeemError(Exception):
    """A redemption that did not happen; the message is what the user sees."""


async def redeem(ctx: MasterContext, key: str, user_id: int) -> int:
    """Redeem `key` for `user_id` and return the quota granted.

    The code is claimed with a guarded UPDATE (`status = 1` in the WHERE) before anything is read, so
    concurrent claims serialise on the row lock and exactly one sees a changed row; a write-first
    transaction also keeps SQLite's WAL snapshot from going stale under the busy timeout.
    """
    if not key:
        raise RedeemError("未提供兑换码")
    if not user_id:
        raise RedeemError("无效的 user id")
    now = int(time.time())
    try:
        quota = await _claim(ctx, key, user_id, now)
    except DBAPIError as exc:  # e.g. the balance would overflow: One API prefixes errors from the transaction
        raise RedeemError(f"兑换失败，{exc.orig}") from exc
    await ctx.changed("user")
    await record_log(ctx, user_id, LOG_TOPUP, f"通过兑换码充值 {format_quota(ctx, quota)}")
    return quota


async def _claim(ctx: MasterContext, key: str, user_id: int, now: int) -> int:
    async with ctx.store.main.begin() as conn:
        claimed = await conn.execute(
            redemptions.update()
            .where(and_(redemptions.c.key == key, redemptions.c.status == REDEMPTION_ENABLED))
            .values(status=REDEMPTION_USED, redeemed_time=now)
        )
        if claimed.rowcount != 1:
            found = (await conn.execute(select(redemptions.c.id).where(redemptions.c.key == key))).first()
            raise RedeemError("兑换失败，该兑换码已被使用" if found else "兑换失败，无效的兑换码")
        quota = int((await conn.execute(select(redemptions.c.quota).where(redemptions.c.key == key))).scalar_one() or 0)
        await conn.execute(users.update().where(users.c.id == user_id).values(quota=users.c.quota + quota))
    return quota


async def admin_top_up(ctx: MasterContext, user_id: int, quota: int, remark: str) -> str:
    """POST /api/topup: credit a user and write a top-up log; returns "" or the error message."""
    if quota < 0:
        return "quota 不能为负数！"
    if not 0 < user_id <= INT32_MAX:
        return "用户不存在"
    try:
        async with ctx.store.main.begin() as conn:
            result = await conn.execute(users.update().where(users.c.id == user_id).values(quota=users.c.quota + quota))
    except DBAPIError as exc:  # the balance would leave the bigint range
        return str(exc.orig)
    if result.rowcount != 1:  # One API would log a top-up of nobody; we refuse instead
        return "用户不存在"
    await ctx.changed("user")
    await record_log(ctx, user_id, LOG_TOPUP, remark or f"通过 API 充值 {format_quota(ctx, quota)}", quota=quota)
    return ""


async def dashboard(ctx: MasterContext, user_id: int, now: float | None = None) -> list[dict[str, Any]]:
    """Per-day, per-model consumption over the last 7 UTC days. Rows are summed in Python so the
    day bucket is the same UTC date on every dialect."""
    today = int(now if now is not None else time.time()) // DAY * DAY
    start, end = today - 6 * DAY, today + DAY - 1
    query = select(logs.c.created_at, logs.c.model_name, logs.c.quota, logs.c.prompt_tokens, logs.c.completion_tokens).where(
        and_(logs.c.user_id == user_id, logs.c.type == LOG_CONSUME, logs.c.created_at.between(start, end))
    )
    async with ctx.store.logs.connect() as conn:
        rows = (await conn.execute(query)).all()
    buckets: dict[tuple[str, str], dict[str, Any]] = defaultdict(
        lambda: {"RequestCount": 0, "Quota": 0, "PromptTokens": 0, "CompletionTokens": 0}
    )
    for row in rows:
        day = datetime.fromtimestamp(int(row.created_at), tz=UTC).strftime("%Y-%m-%d")
        bucket = buckets[(day, row.model_name or "")]
        bucket["RequestCount"] += 1
        bucket["Quota"] += int(row.quota or 0)
        bucket["PromptTokens"] += int(row.prompt_tokens or 0)
        bucket["CompletionTokens"] += int(row.completion_tokens or 0)
    return [{"Day": day, "ModelName": model, **sums} for (day, model), sums in sorted(buckets.items())]


async def available_models(ctx: MasterContext, user_id: int) -> list[str] | None:
    """Sorted distinct models of enabled abilities in the user's group; None for an unknown user."""
    async with ctx.store.main.connect() as conn:
        group = (await conn.execute(select(users.c.group).where(users.c.id == user_id))).scalar()
        if group is None:
            return None
        rows = await conn.execute(
            select(abilities.c.model).distinct().where(and_(abilities.c.group == group, abilities.c.enabled.is_(True)))
        )
        return sorted(r.model for r in rows)
