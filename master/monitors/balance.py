"""Upstream account balances (docs/one-api-compat.md §7.2), stored in `balance` + `balance_updated_time`.

Off the hot path, so httpx (RELAY_PROXY, RELAY_TIMEOUT; HTTP(S)_PROXY when RELAY_PROXY is empty).
One API queries fixed hosts for several providers (e.g. https://api.deepseek.com/user/balance);
here a channel's own `base_url`, when set, replaces that host (same path), so channels behind a
proxy or a test server are queried where they live; without a base_url the fixed host is used.

"Update all" (One API's is a no-op) refreshes every enabled channel of a supported type in the
background, POLLING_INTERVAL seconds apart; an OpenAI/Custom channel whose balance is <= 0 is
disabled ("余额不足", the rule of One API's dormant loop) when AutomaticDisableChannelEnabled is on.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Mapping
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any
from urllib.parse import quote

from sqlalchemy import select

from master.db.rows import Record
from master.db.schema import channels
from master.monitors.status import STATUS_ENABLED, disable_channel
from shared.logs import get_logger
from shared.redact import redact_key
from shared.relay.adaptors.registry import spec_for

if TYPE_CHECKING:
    import httpx

    from master.context import MasterContext
    from master.monitors.channel_test import Spawn

log = get_logger(__name__)

NOT_IMPLEMENTED = "尚未实现"
# The balance answers this module reads; a channel spec's `balance` names one of them.
READERS = frozenset({"openai", "credit_grants", "credit_remaining", "openai_sb", "aiproxy", "siliconflow", "deepseek", "openrouter"})


class BalanceError(Exception):
    """The balance could not be read; the text is the route's message."""


def balance_reader(ctype: int) -> str:
    """The reader a channel type's spec names for its balance ("" = One API has none)."""
    spec = spec_for(ctype)
    return spec.balance if spec else ""


def _base(row: Mapping[str, Any]) -> str:
    own = (row.get("base_url") or "").rstrip("/")
    if own:
        return own
    spec = spec_for(int(row.get("type") or 0))
    return (spec.balance_host or spec.base_url).rstrip("/") if spec else ""


def _number(value: Any, what: str) -> float:
    """A JSON number or numeric string (several providers send strings)."""
    if isinstance(value, bool):
        raise BalanceError(f"{what} is not a number")
    try:
        return float(value)
    except (TypeError, ValueError):
        raise BalanceError(f"{what} is not a number: {value!r}") from None


def _field(doc: Any, *path: str) -> Any:
    for key in path:
        if not isinstance(doc, dict):
            return None
        doc = doc.get(key)
    return doc


async def _get_json(http: httpx.AsyncClient, url: str, headers: Mapping[str, str]) -> Any:
    import httpx

    try:
        resp = await http.get(url, headers=dict(headers))
    except httpx.HTTPError as exc:
        raise BalanceError(str(exc) or type(exc).__name__) from exc
    if resp.status_code != 200:
        raise BalanceError(f"status code: {resp.status_code}")
    try:
        return resp.json()
    except ValueError as exc:
        raise BalanceError(f"invalid JSON from {url}: {exc}") from exc


async def _openai(http: httpx.AsyncClient, base: str, auth: Mapping[str, str]) -> float:
    subscription = await _get_json(http, f"{base}/v1/dashboard/billing/subscription", auth)
    now = datetime.now()
    start = now.strftime("%Y-%m-01")
    if not _field(subscription, "has_payment_method"):
        start = (now - timedelta(days=100)).strftime("%Y-%m-%d")
    end = now.strftime("%Y-%m-%d")
    usage = await _get_json(http, f"{base}/v1/dashboard/billing/usage?start_date={start}&end_date={end}", auth)
    hard_limit = _number(_field(subscription, "hard_limit_usd") or 0, "hard_limit_usd")
    return hard_limit - _number(_field(usage, "total_usage") or 0, "total_usage") / 100


async def fetch_balance(http: httpx.AsyncClient, row: Mapping[str, Any]) -> float:
    """Ask the provider of this channel for its balance; raises BalanceError."""
    reader = balance_reader(int(row.get("type") or 0))
    key = row.get("key") or ""
    base = _base(row)
    auth = {"Authorization": f"Bearer {key}"}
    if reader == "openai":
        return await _openai(http, base, auth)
    if reader == "credit_grants":
        doc = await _get_json(http, f"{base}/dashboard/billing/credit_grants", auth)
        return _number(_field(doc, "total_available"), "total_available")
    if reader == "credit_remaining":
        doc = await _get_json(http, f"{base}/dashboard/billing/credit_grants", auth)
        return _number(_field(doc, "total_remaining"), "total_remaining")
    if reader == "openai_sb":
        doc = await _get_json(http, f"{base}/sb-api/user/status?api_key={quote(key)}", auth)
        data = _field(doc, "data")
        if not isinstance(data, dict):
            raise BalanceError(str(_field(doc, "msg") or "no data in the answer"))
        return _number(data.get("credit"), "credit")
    if reader == "aiproxy":
        doc = await _get_json(http, f"{base}/api/report/getUserOverview", {"Api-Key": key})
        if _field(doc, "success") is not True:
            raise BalanceError(f"code: {_field(doc, 'errorCode') or 0}, message: {_field(doc, 'message') or ''}")
        return _number(_field(doc, "data", "totalPoints"), "totalPoints")
    if reader == "siliconflow":
        doc = await _get_json(http, f"{base}/v1/user/info", auth)
        if _field(doc, "code") != 20000:
            raise BalanceError(f"code: {_field(doc, 'code')}, message: {_field(doc, 'message') or ''}")
        return _number(_field(doc, "data", "totalBalance"), "totalBalance")
    if reader == "deepseek":
        doc = await _get_json(http, f"{base}/user/balance", auth)
        for info in _field(doc, "balance_infos") or []:
            if isinstance(info, dict) and info.get("currency") == "CNY":
                return _number(info.get("total_balance"), "total_balance")
        raise BalanceError("currency CNY not found")
    if reader == "openrouter":
        doc = await _get_json(http, f"{base}/v1/credits", auth)
        total = _number(_field(doc, "data", "total_credits"), "total_credits")
        return total - _number(_field(doc, "data", "total_usage"), "total_usage")
    raise BalanceError(NOT_IMPLEMENTED)


def balance_client(ctx: MasterContext) -> httpx.AsyncClient:
    import httpx  # httpx is loaded at first use: ~2.5 MB of RSS a node rarely needs (bench issue)

    settings = ctx.settings
    return httpx.AsyncClient(
        timeout=settings.relay_timeout or None,
        proxy=settings.relay_proxy or None,
        trust_env=not settings.relay_proxy,
    )


async def store_balance(ctx: MasterContext, channel_id: int, balance: float) -> None:
    async with ctx.store.main.begin() as conn:
        await conn.execute(
            channels.update().where(channels.c.id == channel_id).values(balance=balance, balance_updated_time=int(time.time()))
        )


async def update_balance(ctx: MasterContext, row: Mapping[str, Any], http: httpx.AsyncClient | None = None) -> float:
    """Fetch and store one channel's balance; raises BalanceError (with the channel's key redacted:
    the text may be the provider's, and it reaches the console and the log)."""
    try:
        if http is None:
            async with balance_client(ctx) as own:
                balance = await fetch_balance(own, row)
        else:
            balance = await fetch_balance(http, row)
    except BalanceError as exc:
        raise BalanceError(redact_key(str(exc), str(row.get("key") or ""))) from exc
    await store_balance(ctx, int(row["id"]), balance)
    return balance


class BalanceUpdater:
    """The "update every enabled channel" run (one at a time): in the background for the API, and
    every CHANNEL_UPDATE_FREQUENCY minutes on the master."""

    def __init__(self, ctx: MasterContext, spawn: Spawn) -> None:
        self.ctx = ctx
        self.spawn = spawn
        self.running = False

    def start_all(self) -> bool:
        if self.running:
            return False
        self.running = True
        self.spawn(self._run_all(), "channel-balance-all")
        return True

    async def run_all(self) -> bool:
        """Run one update of every channel now; False when one is already running."""
        if self.running:
            return False
        self.running = True
        await self._run_all()
        return True

    async def periodic(self, period_seconds: float) -> None:
        """CHANNEL_UPDATE_FREQUENCY (One API's README; its code never starts the loop): refresh every
        channel's balance each period, the first run after one period, as its dormant loop would."""
        while True:
            await asyncio.sleep(period_seconds)
            log.info("updating all channel balances")
            if not await self.run_all():
                log.info("skipped: a balance update run is in progress")

    async def _run_all(self) -> None:
        try:
            query = select(channels).where(channels.c.status == STATUS_ENABLED).order_by(channels.c.id)
            async with self.ctx.store.main.connect() as conn:
                rows = [row._mapping for row in (await conn.execute(query)).all()]
            async with balance_client(self.ctx) as http:
                for row in rows:
                    await self._one(http, row)
        except Exception:
            log.exception("balance update run failed")
        finally:
            self.running = False

    async def _one(self, http: httpx.AsyncClient, row: Record) -> None:
        reader = balance_reader(int(row.get("type") or 0))
        if not reader:
            return
        try:
            balance = await update_balance(self.ctx, row, http)
        except BalanceError as exc:
            log.warning("balance update failed", channel_id=row["id"], error=str(exc))
            return
        # One API's dormant loop disables only OpenAI-billed channels (OpenAI, Custom) at a zero balance.
        if reader == "openai" and balance <= 0 and self.ctx.options.flag("AutomaticDisableChannelEnabled"):
            await disable_channel(self.ctx, int(row["id"]), row.get("name") or "", "余额不足")
        if self.ctx.settings.polling_interval > 0:
            await asyncio.sleep(self.ctx.settings.polling_interval)
