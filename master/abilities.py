"""The abilities table (docs/one-api-compat.md §3.4): one routing row per (group, model) of each channel,
kept in step with the channel on every write."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncConnection

from master.context import MasterContext
from master.db.rows import Record
from master.db.schema import abilities, channels

CHANNEL_ENABLED = 1


def _distinct(items: list[str]) -> list[str]:
    return list(dict.fromkeys(items))


def ability_rows(channel: Mapping[str, Any]) -> list[dict[str, Any]]:
    """The rows a channel implies: its comma-separated models × groups, each de-duplicated
    (One API splits without trimming, so "a, b" yields the model " b"), `enabled` = status 1."""
    models = _distinct((channel["models"] or "").split(","))
    groups = _distinct((channel["group"] or "").split(","))
    enabled = channel["status"] == CHANNEL_ENABLED
    priority = channel["priority"] if channel["priority"] is not None else 0
    return [
        {"group": group, "model": model, "channel_id": channel["id"], "enabled": enabled, "priority": priority}
        for model in models
        for group in groups
    ]


async def delete_abilities(conn: AsyncConnection, channel_id: int) -> None:
    await conn.execute(abilities.delete().where(abilities.c.channel_id == channel_id))


async def rebuild_abilities(conn: AsyncConnection, channel: Record) -> None:
    """Replace a channel's ability rows with those of its current row (call inside a transaction)."""
    await delete_abilities(conn, channel["id"])
    rows = ability_rows(channel)
    if rows:
        await conn.execute(abilities.insert(), rows)


async def set_channel_status(ctx: MasterContext, channel_id: int, status: int) -> bool:
    """Set a channel's status and its abilities' `enabled` flag in one transaction (One API's
    UpdateChannelStatusById, used by auto-disable/enable), then publish the change.
    Returns False when no such channel exists."""
    async with ctx.store.main.begin() as conn:
        found = (await conn.execute(select(channels.c.id).where(channels.c.id == channel_id))).first()
        if found is None:
            return False
        await conn.execute(channels.update().where(channels.c.id == channel_id).values(status=status))
        await conn.execute(abilities.update().where(abilities.c.channel_id == channel_id).values(enabled=status == CHANNEL_ENABLED))
    await ctx.changed("channel")
    return True
