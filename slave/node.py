"""Slave node: a stateless relay. It holds no database credentials; its configuration comes from
the master (gRPC, or Redis when the master is down) and its quota deltas go back to the master.

SIGTERM: the HTTP server stops accepting and lets open requests and streams finish (bounded by its
graceful timeout); then the lifespan seals the last batch and ships what it can before exiting,
leaving the rest in the spool for the next start.
"""

from __future__ import annotations

import asyncio
import time
from typing import Any

from starlette.types import Receive, Scope, Send

from shared import memory
from shared.billing import tokenizer
from shared.cluster.crypto import ClusterKeys
from shared.logs import get_logger, setup_logging
from shared.metrics import engine_state
from shared.relay.engine import RelayEngine
from shared.relay.ledger import Ledger
from shared.relay.upstream import limits_from, make_upstream
from shared.server import serve
from shared.settings import Settings
from shared.usercontent import UserContentClient
from slave.app import SlaveApp
from slave.link import MasterLink
from slave.replica import ConfigReplica
from slave.shipper import Shipper

log = get_logger(__name__)

FLUSH_TIMEOUT = 10.0  # seconds to ship the last batches at shutdown


class SlaveNode:
    """The slave as one ASGI app with a lifespan (start: replica, shipper; stop: drain, flush)."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.keys = ClusterKeys(settings.cluster_secret)
        self.link = MasterLink(settings, self.keys)
        self.shipper = Shipper(settings, self.link)
        ledger: Ledger | None = None
        self.quota_redis: Any | None = None
        if settings.redis_enabled:
            # Fleet-wide quota: reserve and settle against the master-seeded counters in Redis.
            # Imported only with Redis: the redis package costs a node ~7 MB of RSS (bench issue).
            from shared.relay.redis_ledger import RedisLedger, connect

            self.quota_redis = connect(settings.redis_conn_string)
            ledger = RedisLedger(self.quota_redis)
        self.engine = RelayEngine(
            settings,
            make_upstream(settings.relay_http_client, proxy=settings.relay_proxy, limits=limits_from(settings)),
            self.shipper,
            ledger,
        )
        self.replica = ConfigReplica(settings, self.keys, self.link, self.engine, self.shipper)
        self.app = SlaveApp(settings, self.engine, lambda: self.replica.ready)
        self.app.metrics.bind(
            lambda: engine_state(
                self.engine,
                sync_lag_seconds=self.replica.sync_lag(),
                push_connected=self.replica.pushing,
                spool_batches=len(self.shipper.unacked),
                snapshots_installed=self.replica.snapshots_installed,
                changes_applied=self.replica.changes_applied,
                config_cpu_seconds=self.replica.cpu_seconds,
            )
        )

    async def start(self) -> None:
        await asyncio.to_thread(tokenizer.warm_up)
        self.engine.user_content = UserContentClient.from_settings(self.settings)
        await self.link.open()
        self.shipper.start()
        await self.replica.start()
        memory.freeze_startup_heap()
        log.info("slave started", node_id=self.settings.node_id, master=self.settings.master_addr, source=self.replica.source or "none yet")

    async def stop(self) -> None:
        self.app.draining = True
        await self.replica.stop()
        await self.shipper.close(time.monotonic() + FLUSH_TIMEOUT)
        await self.link.close()
        if self.quota_redis is not None:
            await self.quota_redis.aclose()
        await self.engine.upstream.close()
        if self.engine.user_content is not None:
            await self.engine.user_content.aclose()

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "lifespan":
            await self._lifespan(receive, send)
        else:
            await self.app(scope, receive, send)

    async def _lifespan(self, receive: Receive, send: Send) -> None:
        while True:
            message: Any = await receive()
            if message["type"] == "lifespan.startup":
                try:
                    await self.start()
                except Exception as exc:
                    log.exception("slave failed to start")
                    await send({"type": "lifespan.startup.failed", "message": str(exc)})
                    return
                await send({"type": "lifespan.startup.complete"})
            elif message["type"] == "lifespan.shutdown":
                try:
                    await self.stop()
                finally:
                    await send({"type": "lifespan.shutdown.complete"})
                return


def run(settings: Settings) -> int:
    setup_logging(settings.log_dir, settings.only_one_log_file, settings.debug)
    memory.tune()
    if not settings.cluster_secret:
        log.error("NODE_TYPE=slave needs CLUSTER_SECRET (the master's) and MASTER_ADDR")
        return 2
    forwarded = settings.worker is not None and settings.worker.forward  # a master's relay worker
    if settings.frontend_base_url == "" and not forwarded:
        log.info("FRONTEND_BASE_URL is not set: page requests get a JSON 404 naming the master")
    log.info("starting slave", port=settings.port, node_id=settings.node_id, server=settings.http_server)
    return serve(SlaveNode(settings), settings)
