"""Writing rows of the logs table (docs/one-api-compat.md §3.7), in the logs database."""

from __future__ import annotations

import time
from typing import TYPE_CHECKING

from sqlalchemy import insert, select

from master.db.schema import logs, users

if TYPE_CHECKING:
    from master.context import MasterContext

LOG_UNKNOWN, LOG_TOPUP, LOG_CONSUME, LOG_MANAGE, LOG_SYSTEM, LOG_TEST = 0, 1, 2, 3, 4, 5


def format_quota(ctx: MasterContext, quota: int) -> str:
    """One API's LogQuota: `＄0.002000 额度` when displaying currency, else `1000 点额度`."""
    if ctx.options.flag("DisplayInCurrencyEnabled"):
        per_unit = ctx.options.number("QuotaPerUnit") or 500000
        return f"＄{quota / per_unit:.6f} 额度"
    return f"{quota} 点额度"


async def _username(ctx: MasterContext, user_id: int) -> str:
    async with ctx.store.main.connect() as conn:
        row = (await conn.execute(select(users.c.username).where(users.c.id == user_id))).first()
    return row.username if row else ""


async def record_log(ctx: MasterContext, user_id: int, log_type: int, content: str, quota: int = 0) -> None:
    """A non-consume log row (top-up, manage, system); the username is looked up now."""
    row = {
        "user_id": user_id,
        "created_at": int(time.time()),
        "type": log_type,
        "content": content,
        "username": await _username(ctx, user_id),
        "token_name": "",
        "model_name": "",
        "quota": quota,
        "prompt_tokens": 0,
        "completion_tokens": 0,
        "channel_id": 0,
        "request_id": "",
        "elapsed_time": 0,
        "is_stream": False,
        "system_prompt_reset": False,
    }
    async with ctx.store.logs.begin() as conn:
        await conn.execute(insert(logs).values(**row))


async def record_test_log(ctx: MasterContext, channel_id: int, model_name: str, content: str, elapsed_ms: int) -> None:
    row = {
        "user_id": 0,
        "created_at": int(time.time()),
        "type": LOG_TEST,
        "content": content,
        "username": "",
        "token_name": "",
        "model_name": model_name,
        "quota": 0,
        "prompt_tokens": 0,
        "completion_tokens": 0,
        "channel_id": channel_id,
        "request_id": "",
        "elapsed_time": elapsed_ms,
        "is_stream": False,
        "system_prompt_reset": False,
    }
    async with ctx.store.logs.begin() as conn:
        await conn.execute(insert(logs).values(**row))
