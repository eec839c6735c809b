"""Channel tests (docs/one-api-compat.md §7.1): one chat completion through the channel's adaptor and the
engine's pooled upstream client, a type-5 log row per test, and the batch run with automatic
disabling and enabling. Tests are never billed.

The auto-disable check of a batch run passes the upstream's real HTTP status to the rule (One API
passes -1 there), so a bare 401 disables a channel here as it does on the relay path.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable, Coroutine, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import orjson
from sqlalchemy import select

from master.db.rows import Record
from master.db.schema import channels
from master.logbook import record_test_log
from master.monitors.status import STATUS_ENABLED, disable_channel, enable_channel
from shared.logs import get_logger
from shared.redact import redact_key
from shared.relay import modes
from shared.relay.adaptors.errors import error_of, should_disable_channel
from shared.relay.adaptors.registry import channel_base_url
from shared.relay.exchange import exchange
from shared.relay.types import RelayError, RelayMeta
from shared.relay.upstream import UpstreamUnavailable
from shared.snapshot import ChannelEntry, channel_entry

if TYPE_CHECKING:
    from master.context import MasterContext
    from shared.relay.engine import RelayEngine

log = get_logger(__name__)

DEFAULT_TEST_MODEL = "gpt-3.5-turbo"
ALREADY_RUNNING = "测试已在运行中"
TEST_PATH = "/v1/chat/completions"

Spawn = Callable[[Coroutine[Any, Any, None], str], "asyncio.Task[None]"]


def pick_model(models_text: str, requested: str, mapping: Mapping[str, str]) -> str:
    """One API's choice: the requested model (default gpt-3.5-turbo) if it is a substring of the
    channel's raw `models` string, else the first comma entry; then the channel's model mapping."""
    model = requested or DEFAULT_TEST_MODEL
    if not model or model not in models_text:
        model = models_text.split(",")[0]
    return mapping.get(model) or model


@dataclass
class TestOutcome:
    model: str  # the model the upstream was asked for
    reply: str
    error: str  # "" when the test passed
    upstream: RelayError | None  # the parsed upstream error object, for the auto-disable rule
    elapsed_ms: int

    @property
    def ok(self) -> bool:
        return not self.error


class _Failed(Exception):
    def __init__(self, message: str, upstream: RelayError | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.upstream = upstream


def _meta(channel: ChannelEntry, model: str, engine: RelayEngine) -> RelayMeta:
    return RelayMeta(
        mode=modes.CHAT,
        channel_type=channel.type,
        channel_id=channel.id,
        base_url=channel_base_url(channel.type, channel.base_url),
        api_key=channel.key,
        config=channel.config,
        origin_model=model,
        actual_model=model,
        is_stream=False,
        request_path=TEST_PATH,
        client_headers={"content-type": "application/json"},
        gemini_version=engine.settings.gemini_version,
        gemini_safety_setting=engine.settings.gemini_safety_setting,
    )


def _reply_text(body: bytes) -> str:
    try:
        doc = orjson.loads(body)
    except orjson.JSONDecodeError as exc:
        raise _Failed(f"invalid response body: {exc}") from exc
    choices = doc.get("choices") if isinstance(doc, dict) else None
    if not isinstance(choices, list) or not choices:
        raise _Failed("response has no choices")
    first = choices[0]
    message = first.get("message") if isinstance(first, dict) else None
    content = message.get("content") if isinstance(message, dict) else None
    if not isinstance(content, str):
        raise _Failed("response content is not string")
    return content


async def _ask(engine: RelayEngine, channel: ChannelEntry, model: str, prompt: str) -> str:
    try:
        adaptor = engine.adaptor(channel)
    except RelayError as exc:
        raise _Failed(exc.message) from None
    body = {"model": model, "messages": [{"role": "user", "content": prompt}]}
    raw = orjson.dumps(body)
    meta = _meta(channel, model, engine)
    try:
        request = adaptor.build_request(meta, body, raw)
    except RelayError as exc:
        raise _Failed(exc.message, exc) from None
    try:
        resp = await exchange(engine.upstream, adaptor, meta, request, request.body if request.body is not None else raw)
        try:
            data = await resp.read()
        finally:
            resp.close()
    except UpstreamUnavailable as exc:
        raise _Failed(f"do request failed: {exc}") from None
    except RelayError as exc:
        raise _Failed(exc.message, exc) from None
    if resp.status != 200:
        err = error_of(adaptor, resp.status, data)
        suffix = f", error message: {err.message}" if err.message else ""
        raise _Failed(f"http status code: {resp.status}{suffix}", err)
    try:
        converted = adaptor.convert_response(meta, resp.status, resp.headers, data)
    except RelayError as exc:
        raise _Failed(exc.message, exc) from None
    return _reply_text(converted.body)


async def test_channel(ctx: MasterContext, engine: RelayEngine, row: Mapping[str, Any], requested: str = "") -> TestOutcome:
    """Test one channel (its DB row, key included) and write the test log."""
    channel = channel_entry(row)
    model = pick_model(row.get("models") or "", requested, channel.model_mapping)
    started = time.perf_counter()
    reply, error, upstream = "", "", None
    try:
        reply = await _ask(engine, channel, model, ctx.settings.test_prompt)
    except _Failed as exc:
        # Upstream text may echo the channel's key; the test log and the console must not show it.
        error, upstream = redact_key(exc.message, channel.key), exc.upstream
        if upstream is not None:
            upstream.message = redact_key(upstream.message, channel.key)
    elapsed = int((time.perf_counter() - started) * 1000)
    content = f"渠道 {channel.name} 测试失败，错误：{error}" if error else f"渠道 {channel.name} 测试成功，响应：{reply}"
    try:
        await record_test_log(ctx, channel.id, model, content, elapsed)
    except Exception:
        log.exception("writing a test log failed", channel_id=channel.id)
    return TestOutcome(model=model, reply=reply, error=error, upstream=upstream, elapsed_ms=elapsed)


async def write_response_time(ctx: MasterContext, channel_id: int, ms: int) -> None:
    """One API's UpdateResponseTime: `response_time` in ms and `test_time = now`."""
    async with ctx.store.main.begin() as conn:
        await conn.execute(channels.update().where(channels.c.id == channel_id).values(response_time=ms, test_time=int(time.time())))


async def load_channel(ctx: MasterContext, channel_id: int) -> Record | None:
    async with ctx.store.main.connect() as conn:
        row = (await conn.execute(select(channels).where(channels.c.id == channel_id))).first()
    return row._mapping if row else None


class ChannelTester:
    """Single tests, and the batch run of which one at a time runs per process."""

    def __init__(self, ctx: MasterContext, engine: RelayEngine, spawn: Spawn) -> None:
        self.ctx = ctx
        self.engine = engine
        self.spawn = spawn
        self.running = False

    async def test_one(self, row: Mapping[str, Any], requested: str) -> TestOutcome:
        """The single test of GET /api/channel/test/:id: no status change; time 0 on error."""
        outcome = await test_channel(self.ctx, self.engine, row, requested)
        await write_response_time(self.ctx, int(row["id"]), 0 if outcome.error else outcome.elapsed_ms)
        return outcome

    def start_batch(self, scope: str) -> bool:
        """Start a batch run in the background; False when one is already running."""
        if self.running:
            return False
        self.running = True
        self.spawn(self._run_guarded(scope), "channel-test-batch")
        return True

    async def run_batch(self, scope: str) -> bool:
        """Run a batch now (the periodic loop); False when one is already running."""
        if self.running:
            return False
        self.running = True
        await self._run_guarded(scope)
        return True

    async def _run_guarded(self, scope: str) -> None:
        try:
            await self._run(scope)
        except Exception:
            log.exception("channel test run failed")
        finally:
            self.running = False

    async def _run(self, scope: str) -> None:
        query = select(channels).order_by(channels.c.id)
        if scope == "disabled":
            query = query.where(channels.c.status.in_((2, 3)))
        async with self.ctx.store.main.connect() as conn:
            rows = [row._mapping for row in (await conn.execute(query)).all()]
        interval = self.ctx.settings.polling_interval
        for row in rows:
            await self._test_in_batch(row)
            if interval > 0:
                await asyncio.sleep(interval)
        log.info("channel test run finished", scope=scope, channels=len(rows))

    async def _test_in_batch(self, row: Record) -> None:
        ctx = self.ctx
        channel_id, name = int(row["id"]), row.get("name") or ""
        was_enabled = row.get("status") == STATUS_ENABLED
        outcome = await test_channel(ctx, self.engine, row)
        ms = outcome.elapsed_ms
        error = outcome.error
        auto_disable = ctx.options.flag("AutomaticDisableChannelEnabled")
        threshold_ms = int(ctx.options.number("ChannelDisableThreshold") * 1000)
        disabled = False
        if was_enabled and threshold_ms > 0 and ms > threshold_ms:
            error = f"响应时间 {ms / 1000:.2f}s 超过阈值 {threshold_ms / 1000:.2f}s"
            if auto_disable:
                await disable_channel(ctx, channel_id, name, error)
                disabled = True
            else:  # One API "notifies" with an unknown method here: nothing is sent
                log.warning("channel test too slow", channel_id=channel_id, reason=error)
        upstream = outcome.upstream
        if was_enabled and not disabled and auto_disable and upstream is not None and should_disable_channel(upstream, upstream.status):
            await disable_channel(ctx, channel_id, name, error)
        if not was_enabled and ctx.options.flag("AutomaticEnableChannelEnabled") and outcome.ok:
            await enable_channel(ctx, channel_id, name)
        await write_response_time(ctx, channel_id, ms)

    async def periodic(self, period_seconds: float) -> None:
        """CHANNEL_TEST_FREQUENCY: test every channel each period, the first run after one period."""
        while True:
            await asyncio.sleep(period_seconds)
            log.info("testing all channels")
            if not await self.run_batch("all"):
                log.info("skipped: a channel test run is in progress")
