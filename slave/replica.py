"""The slave's copy of the master's configuration.

Sources, all feeding `offer`: the gRPC Watch stream (pushed at once), Redis pub/sub (pushed at
once; the sealed snapshot is read from Redis), a resync every SYNC_FREQUENCY seconds whatever
happens, and at start gRPC or, when the master is unreachable, the snapshot Redis holds.
A snapshot is installed only if it is newer: (epoch, version) compare in order, epochs being
time-prefixed per master start.
"""

from __future__ import annotations

import asyncio
import time
from typing import Any

import grpc

from shared.cluster.convert import Replica, open_snapshot
from shared.cluster.crypto import ClusterKeys, SealError
from shared.cluster.pb import cluster_pb2 as pb
from shared.logs import get_logger
from shared.relay.engine import RelayEngine
from shared.settings import Settings
from slave.link import MasterLink
from slave.shipper import Shipper

log = get_logger(__name__)

REDIS_SNAPSHOT_KEY = "oneapi:cluster:snapshot"
REDIS_CHANNEL = "oneapi:cluster:changes"
START_TIMEOUT = 3.0


class ConfigReplica:
    def __init__(self, settings: Settings, keys: ClusterKeys, link: MasterLink, engine: RelayEngine, shipper: Shipper) -> None:
        self.settings, self.keys, self.link, self.engine, self.shipper = settings, keys, link, engine, shipper
        self.current: Replica | None = None
        self.source = ""
        self.redis: Any | None = None
        self._tasks: list[asyncio.Task[None]] = []
        self.synced_at = 0.0  # monotonic: last time a source confirmed what runs is the latest
        self.pushing = False  # the gRPC Watch stream is delivering (for /metrics)

    def sync_lag(self) -> float | None:
        """How far behind the master this node may be, in seconds: 0 while the Watch stream pushes
        changes, else the time since a source last confirmed the snapshot; None before the first."""
        if self.current is None:
            return None
        return 0.0 if self.pushing else time.monotonic() - self.synced_at

    @property
    def ready(self) -> bool:
        return self.current is not None

    async def start(self) -> None:
        if self.settings.redis_enabled:
            import redis.asyncio as aioredis

            self.redis = aioredis.from_url(self.settings.redis_conn_string, socket_timeout=5, socket_connect_timeout=2)
        if not await self._fetch_grpc(START_TIMEOUT):
            log.warning("master unreachable at start; trying the Redis snapshot", master=self.settings.master_addr)
            await self._fetch_redis()
        self._tasks = [asyncio.create_task(self._watch_loop(), name="config-watch"), asyncio.create_task(self._resync_loop(), name="config-resync")]
        if self.redis is not None:
            self._tasks.append(asyncio.create_task(self._redis_loop(), name="config-redis"))

    async def stop(self) -> None:
        for task in self._tasks:
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        if self.redis is not None:
            await self.redis.aclose()

    def offer(self, sealed: pb.SealedSnapshot, source: str) -> bool:
        """Install `sealed` if newer than what runs; True when installed."""
        if self.current is not None and (sealed.epoch, sealed.version) <= (self.current.epoch, self.current.snapshot.version):
            if (sealed.epoch, sealed.version) == (self.current.epoch, self.current.snapshot.version):
                self.synced_at = time.monotonic()  # confirmed current
            return False
        try:
            replica = open_snapshot(self.keys, sealed)
        except SealError:
            log.error("a snapshot could not be opened: is CLUSTER_SECRET the master's?", source=source)
            return False
        # No await from here on: the pending sums and the swap see the same deltas.
        tokens, users, used = self.shipper.pending_since(replica.applied.get(self.settings.node_id, 0))
        self.engine.ledger.reseed(replica.snapshot, tokens, users, used)
        self.engine.install(replica.snapshot)
        self.current, self.source = replica, source
        self.synced_at = time.monotonic()
        log.debug("snapshot installed", version=sealed.version, source=source)
        return True

    async def _fetch_grpc(self, timeout: float) -> bool:
        try:
            sealed = await self.link.get_snapshot(pb.SnapshotRequest(node_id=self.settings.node_id), timeout=timeout)
        except grpc.aio.AioRpcError as exc:
            log.warning("snapshot not fetched from the master", code=exc.code().name)
            return False
        self.offer(sealed, "grpc")
        return True

    async def _fetch_redis(self) -> bool:
        if self.redis is None:
            return False
        try:
            raw = await self.redis.get(REDIS_SNAPSHOT_KEY)
        except Exception as exc:
            log.warning("snapshot not read from Redis", error=str(exc))
            return False
        if not raw:
            return False
        sealed = pb.SealedSnapshot()
        sealed.ParseFromString(raw)
        self.offer(sealed, "redis")
        return True

    async def _watch_loop(self) -> None:
        backoff = 0.2
        while True:
            try:
                stream = self.link.watch(pb.WatchRequest(node_id=self.settings.node_id))
                async for sealed in stream:
                    backoff = 0.2
                    self.pushing = True
                    self.offer(sealed, "watch")
            except grpc.aio.AioRpcError as exc:
                if exc.code() == grpc.StatusCode.UNAUTHENTICATED:
                    log.error("the master refused this node's CLUSTER_SECRET")
            self.pushing = False
            await asyncio.sleep(backoff)
            backoff = min(backoff * 2, 5.0)

    async def _redis_loop(self) -> None:
        backoff = 0.2
        while True:
            try:
                pubsub = self.redis.pubsub()
                await pubsub.subscribe(REDIS_CHANNEL)
                await self._fetch_redis()  # whatever was published while unsubscribed
                backoff = 0.2
                async for message in pubsub.listen():
                    if message.get("type") == "message":
                        epoch, _, version = bytes(message["data"]).decode().partition(":")
                        if self.current is None or (epoch, int(version or 0)) > (self.current.epoch, self.current.snapshot.version):
                            await self._fetch_redis()
            except Exception as exc:  # Redis down or restarted: resubscribe
                log.warning("Redis subscription lost; resubscribing", error=str(exc))
            await asyncio.sleep(backoff)
            backoff = min(backoff * 2, 5.0)

    async def _resync_loop(self) -> None:
        while True:
            # Until the first snapshot arrives keep trying every second; then every SYNC_FREQUENCY.
            await asyncio.sleep(1.0 if self.current is None else max(self.settings.sync_frequency, 1))
            current = self.current
            request = pb.ChangesRequest(
                node_id=self.settings.node_id,
                epoch=current.epoch if current else "",
                version=current.snapshot.version if current else 0,
            )
            try:
                changes = await self.link.changes_since(request, timeout=10)
            except grpc.aio.AioRpcError:
                await self._fetch_redis()
                continue
            if changes.unchanged:
                self.synced_at = time.monotonic()
            else:
                self.offer(changes.snapshot, "resync")
