"""Channel status changes made by the monitors, each followed by a root notification
(One API's monitor/manage.go: DisableChannel, EnableChannel, MetricDisableChannel)."""

from __future__ import annotations

import html
from typing import TYPE_CHECKING

from sqlalchemy import select

from master.abilities import set_channel_status
from master.db.schema import channels
from master.notify import CHANNEL_STATUS_SUBJECT, email_template, notify_root
from shared.logs import get_logger

if TYPE_CHECKING:
    from master.context import MasterContext

log = get_logger(__name__)

STATUS_ENABLED, STATUS_MANUALLY_DISABLED, STATUS_AUTO_DISABLED = 1, 2, 3


def _channel_html(name: str, channel_id: int, what: str) -> str:
    return f"<p>您好！</p><p>渠道「<strong>{html.escape(name)}</strong>」（#{channel_id}）{what}。</p>"


async def _notify(ctx: MasterContext, content_html: str) -> None:
    page = email_template(ctx.options.get("SystemName"), CHANNEL_STATUS_SUBJECT, content_html)
    await notify_root(ctx, CHANNEL_STATUS_SUBJECT, page)


async def channel_name(ctx: MasterContext, channel_id: int) -> str:
    async with ctx.store.main.connect() as conn:
        row = (await conn.execute(select(channels.c.name).where(channels.c.id == channel_id))).first()
    return (row.name or "") if row else ""


def _reason_html(reason: str) -> str:
    return f'<p>禁用原因：</p><p style="background:#f8f8f8;padding:10px;border-radius:4px;">{html.escape(reason)}</p>'


async def notify_disabled(ctx: MasterContext, channel_id: int, reason: str, name: str | None = None) -> None:
    """Tell root a channel was auto-disabled (the status is already written)."""
    if name is None:
        name = await channel_name(ctx, channel_id)
    await _notify(ctx, _channel_html(name, channel_id, "已被禁用") + _reason_html(reason))


async def disable_channel(ctx: MasterContext, channel_id: int, name: str, reason: str) -> None:
    """Auto-disable (status 3) and notify."""
    await set_channel_status(ctx, channel_id, STATUS_AUTO_DISABLED)
    log.warning("channel disabled", channel_id=channel_id, reason=reason)
    await notify_disabled(ctx, channel_id, reason, name)


async def enable_channel(ctx: MasterContext, channel_id: int, name: str) -> None:
    """Enable (status 1) and notify."""
    await set_channel_status(ctx, channel_id, STATUS_ENABLED)
    log.info("channel enabled", channel_id=channel_id)
    await _notify(ctx, _channel_html(name, channel_id, "已被启用"))


async def metric_disable_channel(ctx: MasterContext, channel_id: int, success_rate: float) -> None:
    """Disable a channel whose recent success rate fell below METRIC_SUCCESS_RATE_THRESHOLD."""
    settings = ctx.settings
    await set_channel_status(ctx, channel_id, STATUS_AUTO_DISABLED)
    log.warning("channel disabled for its success rate", channel_id=channel_id, rate=round(success_rate * 100, 2))
    reason = (
        f"该渠道（#{channel_id}）在最近 {settings.metric_queue_size} 次调用中成功率为 {success_rate * 100:.2f}%，"
        f"低于阈值 {settings.metric_success_rate_threshold * 100:.2f}%，因此被系统自动禁用。"
    )
    await notify_disabled(ctx, channel_id, reason)
