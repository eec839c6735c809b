"""The master's background monitors (docs/one-api-compat.md §7): channel tests, balances, metric disabling.

Started by the master's lifespan only (One API runs the periodic test on every node; here the
master alone owns the database and the singleton jobs):

    app.state.monitors = await start_monitors(ctx, host)
    ...
    await app.state.monitors.stop()
"""

from __future__ import annotations

import asyncio
from collections.abc import Coroutine
from typing import TYPE_CHECKING, Any

from master.monitors.balance import BalanceUpdater
from master.monitors.channel_test import ChannelTester
from master.monitors.metric import MetricWindow
from master.monitors.status import metric_disable_channel, notify_disabled
from shared.logs import get_logger

if TYPE_CHECKING:
    from master.context import MasterContext
    from master.relay_host import RelayHost

log = get_logger(__name__)


class Monitors:
    def __init__(self, ctx: MasterContext, host: RelayHost) -> None:
        self.ctx = ctx
        self.host = host
        self._tasks: set[asyncio.Task[None]] = set()
        self.tester = ChannelTester(ctx, host.engine, self.spawn)
        self.balances = BalanceUpdater(ctx, self.spawn)
        self.metric: MetricWindow | None = None
        settings = ctx.settings
        if settings.enable_metric:
            self.metric = MetricWindow(settings.metric_queue_size, settings.metric_success_rate_threshold, self._metric_disable)

    def spawn(self, coro: Coroutine[Any, Any, None], name: str) -> asyncio.Task[None]:
        """A background task kept alive until it ends, cancelled by stop()."""
        task = asyncio.create_task(self._logged(coro, name), name=name)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)
        return task

    @staticmethod
    async def _logged(coro: Coroutine[Any, Any, None], name: str) -> None:
        try:
            await coro
        except asyncio.CancelledError:
            raise
        except Exception:
            log.exception("background job failed", job=name)

    def _metric_disable(self, channel_id: int, rate: float) -> None:
        self.host.engine.cooldowns.disabled.add(channel_id)  # stop choosing it before the write lands
        self.spawn(metric_disable_channel(self.ctx, channel_id, rate), "metric-disable")

    def relay_disabled(self, channel_id: int, reason: str) -> None:
        """The relay host wrote an auto-disable (status 3): tell root, in the background."""
        self.spawn(notify_disabled(self.ctx, channel_id, reason), "notify-disabled")

    async def stop(self) -> None:
        for task in list(self._tasks):
            task.cancel()
        await asyncio.gather(*list(self._tasks), return_exceptions=True)
        self.host.engine.on_result = None
        self.host.on_channel_disabled = None


async def start_monitors(ctx: MasterContext, host: RelayHost) -> Monitors:
    """Wire the relay's hooks (metric events, auto-disable notifications) and start the
    CHANNEL_TEST_FREQUENCY and CHANNEL_UPDATE_FREQUENCY loops (minutes; 0 = off). Only the master
    (worker 0 of a supervised master) runs this, so each loop runs once per cluster."""
    monitors = Monitors(ctx, host)
    host.on_channel_disabled = monitors.relay_disabled
    if monitors.metric is not None:
        host.engine.on_result = monitors.metric.record
    if ctx.settings.channel_test_frequency > 0:
        monitors.spawn(monitors.tester.periodic(ctx.settings.channel_test_frequency * 60), "channel-test-loop")
    if ctx.settings.channel_update_frequency > 0:
        monitors.spawn(monitors.balances.periodic(ctx.settings.channel_update_frequency * 60), "channel-balance-loop")
    return monitors
