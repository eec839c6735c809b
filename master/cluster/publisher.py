"""Publishes every new snapshot: to gRPC watchers at once, and to Redis (sealed, plus a pub/sub
notification carrying only the version) from a background task that retries while Redis is down.

Runs as a config-change listener registered after the relay host's, so it always publishes the
snapshot the master's own engine has just installed.
"""

from __future__ import annotations

import asyncio
import time
import uuid
from typing import Any

from master.context import MasterContext
from master.relay_host import RelayHost
from shared.cluster.convert import seal_snapshot, snapshot_message
from shared.cluster.crypto import ClusterKeys
from shared.cluster.pb import cluster_pb2 as pb
from shared.logs import get_logger

log = get_logger(__name__)

REDIS_SNAPSHOT_KEY = "oneapi:cluster:snapshot"
REDIS_CHANNEL = "oneapi:cluster:changes"


class Publisher:
    def __init__(self, ctx: MasterContext, host: RelayHost, keys: ClusterKeys, redis: Any | None) -> None:
        self.ctx, self.host, self.keys, self.redis = ctx, host, keys, redis
        # Versions restart with the process; the epoch (time-prefixed, so later starts sort higher) tells slaves.
        self.epoch = f"{time.time_ns():020d}-{uuid.uuid4().hex[:8]}"
        self.current = pb.SealedSnapshot()
        self.serial = 0  # counts publications; watchers follow it (a version may be republished)
        self._changed = asyncio.Event()
        self._redis_dirty = asyncio.Event()
        self._task: asyncio.Task[None] | None = None

    async def start(self) -> None:
        self.publish()
        self.ctx.listeners.append(self._on_change)
        if self.redis is not None:
            self._task = asyncio.create_task(self._redis_loop(), name="cluster-redis-publisher")

    async def stop(self) -> None:
        if self._on_change in self.ctx.listeners:
            self.ctx.listeners.remove(self._on_change)
        if self._task is not None:
            self._task.cancel()
            try:
                await self._task
            except asyncio.CancelledError:
                pass
        if self.redis is not None:
            await self.redis.aclose()

    async def _on_change(self, what: str) -> None:
        self.publish()

    def publish(self) -> None:
        """Seal the engine's current snapshot and wake every watcher (no await: consistent read)."""
        snapshot = self.host.engine.snapshot
        if snapshot is None:
            return
        self.serial += 1
        self.current = seal_snapshot(self.keys, snapshot_message(snapshot, self.epoch, self.host.snapshot_applied))
        changed, self._changed = self._changed, asyncio.Event()
        changed.set()
        self._redis_dirty.set()

    async def next_change(self, seen_serial: int) -> tuple[int, pb.SealedSnapshot]:
        """(serial, snapshot) once something was published after `seen_serial`."""
        while self.serial <= seen_serial:
            await self._changed.wait()
        return self.serial, self.current

    async def _redis_loop(self) -> None:
        while True:
            await self._redis_dirty.wait()
            self._redis_dirty.clear()
            sealed = self.current
            try:
                await self.redis.set(REDIS_SNAPSHOT_KEY, sealed.SerializeToString())
                await self.redis.publish(REDIS_CHANNEL, f"{sealed.epoch}:{sealed.version}")
            except Exception as exc:  # Redis down: keep the latest and retry; gRPC still carries it
                log.warning("cluster snapshot not written to Redis; retrying", error=str(exc))
                self._redis_dirty.set()
                await asyncio.sleep(1)
