"""Publishes the change feed's change sets: sealed once, kept in a bounded window for slaves
catching up (Watch, ChangesSince), pushed to gRPC watchers at once, and written to Redis by a
background task that retries while Redis is down: each change set to a capped stream and to a
pub/sub channel, and a full snapshot at start, then at most every REDIS_SNAPSHOT_INTERVAL seconds
(sooner when the stream's cap nears): a slave that starts while the master is down reads the
snapshot, then the stream after it.

A full snapshot is sealed only when someone needs one (a joining or too-old slave, Redis), at most
once per version, in a thread (the packed tables make the copy on the loop cheap).
"""

from __future__ import annotations

import asyncio
import time
import uuid
from collections import deque
from collections.abc import Mapping
from typing import Any

from master.context import MasterContext
from master.relay_host import RelayHost
from shared.cluster.changes import changes_message, seal_changes
from shared.cluster.convert import seal_parts, snapshot_parts
from shared.cluster.crypto import ClusterKeys
from shared.cluster.pb import cluster_pb2 as pb
from shared.logs import get_logger
from shared.snapshot_changes import RowChanges

log = get_logger(__name__)

REDIS_SNAPSHOT_KEY = "oneapi:cluster:snapshot"
REDIS_CHANNEL = "oneapi:cluster:changes"
REDIS_STREAM = "oneapi:cluster:changelog"
MAX_REDIS_QUEUE = 10_000  # change sets waiting for Redis; beyond, a full snapshot replaces them


class Publisher:
    def __init__(self, ctx: MasterContext, host: RelayHost, keys: ClusterKeys, redis: Any | None) -> None:
        self.ctx, self.host, self.keys, self.redis = ctx, host, keys, redis
        # Versions restart with the process; the epoch (time-prefixed, so later starts sort higher) tells slaves.
        self.epoch = f"{time.time_ns():020d}-{uuid.uuid4().hex[:8]}"
        self.window: deque[pb.SealedChanges] = deque(maxlen=ctx.settings.change_log_retention)
        self._sealed: pb.SealedSnapshot | None = None
        self._sealing: tuple[int, asyncio.Future[pb.SealedSnapshot]] | None = None  # version, its sealing
        self._changed = asyncio.Event()
        self._redis_queue: deque[pb.SealedChanges] = deque()
        self._redis_dirty = asyncio.Event()
        self._snapshot_due = True  # Redis: write a full snapshot at the next chance
        self._task: asyncio.Task[None] | None = None
        self.sent_bytes = 0  # sealed bytes handed to slaves over gRPC (snapshots and change sets)
        self.published = 0  # change sets published

    @property
    def version(self) -> int:
        snapshot = self.host.engine.snapshot
        return snapshot.version if snapshot is not None else 0

    async def start(self) -> None:
        self.host.feed.subscribers.append(self._on_changes)
        if self.redis is not None:
            self._task = asyncio.create_task(self._redis_loop(), name="cluster-redis-publisher")
            self._redis_dirty.set()

    async def stop(self) -> None:
        if self._on_changes in self.host.feed.subscribers:
            self.host.feed.subscribers.remove(self._on_changes)
        if self._task is not None:
            self._task.cancel()
            try:
                await self._task
            except asyncio.CancelledError:
                pass
        if self.redis is not None:
            await self.redis.aclose()

    def _on_changes(self, changes: RowChanges, from_version: int, applied: Mapping[str, int]) -> None:
        sealed = seal_changes(self.keys, changes_message(changes, self.epoch, from_version, applied))
        self.window.append(sealed)
        self.published += 1
        changed, self._changed = self._changed, asyncio.Event()
        changed.set()
        if self.redis is not None:
            if len(self._redis_queue) >= MAX_REDIS_QUEUE:
                self._redis_queue.clear()
                self._snapshot_due = True
            self._redis_queue.append(sealed)
            self._redis_dirty.set()

    async def snapshot(self) -> pb.SealedSnapshot:
        """The current snapshot, sealed. The tables are copied on the loop with no await (a
        consistent read, a few memory copies); encoding and sealing run in a thread, so a large
        install does not stall relaying, and callers that come meanwhile share that one sealing."""
        snapshot = self.host.engine.snapshot
        assert snapshot is not None
        if self._sealed is not None and self._sealed.version == snapshot.version:
            return self._sealed
        sealing = self._sealing
        if sealing is None or sealing[0] != snapshot.version:
            parts = snapshot_parts(snapshot, self.epoch, self.host.snapshot_applied)
            sealing = (snapshot.version, asyncio.ensure_future(asyncio.to_thread(seal_parts, self.keys, parts)))
            self._sealing = sealing
        try:
            sealed = await asyncio.shield(sealing[1])
        finally:
            if self._sealing is sealing and sealing[1].done():
                self._sealing = None
        if self._sealed is None or sealed.version > self._sealed.version:
            self._sealed = sealed
        return sealed

    def since(self, epoch: str, version: int, limit: int | None = None) -> list[pb.SealedChanges] | None:
        """The change sets after (epoch, version) in order, or None when only a full snapshot
        brings that replica up to date (another epoch, or older than the window)."""
        if epoch != self.epoch or version > self.version:
            return None
        if version == self.version:
            return []
        if not self.window or self.window[0].from_version > version:
            return None
        start = version - self.window[0].from_version
        end = len(self.window) if limit is None else min(len(self.window), start + limit)
        return [self.window[i] for i in range(start, end)]

    async def wait_after(self, version: int) -> None:
        """Return once the published version is past `version`."""
        while self.version <= version:
            await self._changed.wait()

    def count_sent(self, message: pb.SealedSnapshot | pb.SealedChanges) -> None:
        self.sent_bytes += message.ByteSize()

    async def _redis_loop(self) -> None:
        redis = self.redis
        assert redis is not None
        interval = self.ctx.settings.redis_snapshot_interval
        written_at = 0.0
        while True:
            try:
                await asyncio.wait_for(self._redis_dirty.wait(), interval)
            except TimeoutError:
                pass
            self._redis_dirty.clear()
            try:
                while self._redis_queue:
                    sealed = self._redis_queue[0]
                    data = sealed.SerializeToString()
                    await redis.xadd(REDIS_STREAM, {"c": data}, maxlen=self.ctx.settings.change_log_retention, approximate=True)
                    await redis.publish(REDIS_CHANNEL, data)
                    self._redis_queue.popleft()
                # A cold start reads the snapshot, then the stream: rewrite the snapshot (O(install))
                # before the capped stream could lose what follows it, and otherwise rarely.
                behind = self.version - self._written_version
                if (
                    self._snapshot_due
                    or behind >= self.ctx.settings.change_log_retention // 2
                    or (behind and time.monotonic() - written_at >= interval)
                ):
                    sealed_snapshot = await self.snapshot()
                    await redis.set(REDIS_SNAPSHOT_KEY, sealed_snapshot.SerializeToString())
                    self._written_version, self._snapshot_due, written_at = sealed_snapshot.version, False, time.monotonic()
            except Exception as exc:  # Redis down: keep what is queued and retry; gRPC still carries it
                log.warning("cluster changes not written to Redis; retrying", error=str(exc))
                self._redis_dirty.set()
                await asyncio.sleep(1)

    _written_version = -1
