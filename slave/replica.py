"""The slave's copy of the master's configuration: a full snapshot once, then change sets.

Sources: the gRPC Watch stream (change sets pushed at once; it resumes from this node's version),
Redis pub/sub (the same change sets, pushed at once), a resync every SYNC_FREQUENCY seconds
(ChangesSince this node's version), and at start gRPC or, when the master is unreachable, the
snapshot Redis holds plus the change stream written after it. A change set applies only on top of
exactly the version it was made from; one that does not fit (a gap) makes the node catch up
(ChangesSince, which answers with a full snapshot when the log no longer reaches back). A full
snapshot is installed only if newer: (epoch, version) compare in order, epochs being time-prefixed
per master start.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from typing import Any, TypeVar

import grpc

from shared import memory
from shared.cluster.changes import open_changes
from shared.cluster.convert import Replica, open_snapshot
from shared.cluster.crypto import ClusterKeys, SealError
from shared.cluster.pb import cluster_pb2 as pb
from shared.logs import get_logger
from shared.relay.engine import RelayEngine
from shared.settings import Settings
from shared.snapshot_changes import apply_changes
from slave.link import MasterLink
from slave.shipper import Shipper

log = get_logger(__name__)

T = TypeVar("T")

REDIS_SNAPSHOT_KEY = "oneapi:cluster:snapshot"
REDIS_CHANNEL = "oneapi:cluster:changes"
REDIS_STREAM = "oneapi:cluster:changelog"
START_TIMEOUT = 3.0
MAX_PAGES = 1000  # ChangesSince pages followed in one catch-up (each up to the master's page size)


class ConfigReplica:
    def __init__(self, settings: Settings, keys: ClusterKeys, link: MasterLink, engine: RelayEngine, shipper: Shipper) -> None:
        self.settings, self.keys, self.link, self.engine, self.shipper = settings, keys, link, engine, shipper
        self.current: Replica | None = None
        self.source = ""
        self.redis: Any | None = None
        self._tasks: list[asyncio.Task[None]] = []
        self.synced_at = 0.0  # monotonic: last time a source confirmed what runs is the latest
        self.pushing = False  # the gRPC Watch stream is delivering (for /metrics)
        self.snapshots_installed = 0  # full snapshots installed (a joining or too-old node)
        self.changes_applied = 0  # change sets applied
        self.cpu_seconds = 0.0  # CPU spent opening and applying snapshots and change sets

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
        self._tasks = [
            asyncio.create_task(self._watch_loop(), name="config-watch"),
            asyncio.create_task(self._resync_loop(), name="config-resync"),
        ]
        if self.redis is not None:
            self._tasks.append(asyncio.create_task(self._redis_loop(self.redis), name="config-redis"))

    async def stop(self) -> None:
        for task in self._tasks:
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        if self.redis is not None:
            await self.redis.aclose()

    def _newer(self, sealed: pb.SealedSnapshot) -> bool:
        current = self.current
        if current is not None and (sealed.epoch, sealed.version) <= (current.epoch, current.snapshot.version):
            if (sealed.epoch, sealed.version) == (current.epoch, current.snapshot.version):
                self.synced_at = time.monotonic()  # confirmed current
            return False
        return True

    async def offer(self, sealed: pb.SealedSnapshot, source: str) -> bool:
        """Install the full snapshot `sealed` if newer than what runs; True when installed. It is
        opened in a thread (a large install's tables are tens of MB): relaying goes on meanwhile."""
        if not self._newer(sealed):
            return False
        try:
            replica = await asyncio.to_thread(self._timed, open_snapshot, self.keys, sealed)
        except SealError:
            log.error("a snapshot could not be opened: is CLUSTER_SECRET the master's?", source=source)
            return False
        except (ValueError, KeyError) as exc:
            log.error("a snapshot's tables are malformed", source=source, error=str(exc))
            return False
        if not self._newer(sealed):  # a change set or another snapshot got there first
            return False
        # No await from here on: the pending sums and the swap see the same deltas.
        started = time.thread_time()
        tokens, users, used = self.shipper.pending_since(replica.applied.get(self.settings.node_id, 0))
        self.engine.ledger.reseed(replica.snapshot, tokens, users, used)
        self.engine.install(replica.snapshot)
        self.cpu_seconds += time.thread_time() - started
        self.current, self.source = replica, source
        self.synced_at = time.monotonic()
        self.snapshots_installed += 1
        memory.trim()  # the sealed, opened and parsed copies of a large snapshot are freed now
        log.debug("snapshot installed", version=sealed.version, source=source)
        return True

    def _timed(self, fn: Callable[..., T], *args: Any) -> T:
        """fn(*args), its CPU added to cpu_seconds (thread time: correct in a worker thread too)."""
        started = time.thread_time()
        try:
            return fn(*args)
        finally:
            self.cpu_seconds += time.thread_time() - started

    def fits(self, sealed: pb.SealedChanges) -> bool | None:
        """True: `sealed` applies on top of what runs; False: already included; None: a gap (or
        another epoch), so this node must catch up first."""
        current = self.current
        if current is None or sealed.epoch != current.epoch:
            return None
        if sealed.version <= current.snapshot.version:
            return False
        return True if sealed.from_version == current.snapshot.version else None

    def offer_changes(self, sealed: pb.SealedChanges, source: str) -> bool | None:
        """Apply the change set `sealed`: True when applied, False when already included, None on a
        gap (nothing applied: catch up)."""
        fit = self.fits(sealed)
        if not fit:
            if fit is False:
                self.synced_at = time.monotonic()
            return fit
        assert self.current is not None
        return self._timed(self._apply_changes, sealed, source)

    def _apply_changes(self, sealed: pb.SealedChanges, source: str) -> bool | None:
        assert self.current is not None
        try:
            opened = open_changes(self.keys, sealed)
        except SealError:
            log.error("a change set could not be opened: is CLUSTER_SECRET the master's?", source=source)
            return None
        changes = opened.changes
        # No await from here on, as for a snapshot.
        tokens, users, used = self.shipper.pending_since(opened.applied.get(self.settings.node_id, 0))
        snapshot, gone_tokens = apply_changes(self.current.snapshot, changes)
        self.engine.ledger.refresh(changes.tokens, changes.users, gone_tokens, changes.deleted_users, tokens, users, used)
        self.engine.install(snapshot)
        self.current = Replica(epoch=self.current.epoch, snapshot=snapshot, applied=opened.applied)
        self.source = source
        self.synced_at = time.monotonic()
        self.changes_applied += 1
        return True

    async def _fetch_grpc(self, timeout: float) -> bool:
        try:
            sealed = await self.link.get_snapshot(pb.SnapshotRequest(node_id=self.settings.node_id), timeout=timeout)
        except grpc.aio.AioRpcError as exc:
            log.warning("snapshot not fetched from the master", code=exc.code().name)
            return False
        await self.offer(sealed, "grpc")
        return True

    async def _fetch_redis(self) -> bool:
        """The Redis snapshot if newer, then the change sets the stream holds after it."""
        if self.redis is None:
            return False
        try:
            raw = await self.redis.get(REDIS_SNAPSHOT_KEY)
            entries = await self.redis.xrange(REDIS_STREAM, count=self.settings.change_log_retention) if raw else []
        except Exception as exc:
            log.warning("snapshot not read from Redis", error=str(exc))
            return False
        if not raw:
            return False
        sealed = pb.SealedSnapshot()
        sealed.ParseFromString(raw)
        await self.offer(sealed, "redis")
        for _id, fields in entries:
            data = fields.get(b"c")
            if data:
                self.offer_changes(pb.SealedChanges.FromString(data), "redis")
        return True

    async def catch_up(self, timeout: float = 10) -> bool:
        """ChangesSince this node's version, page after page; False when the master is unreachable."""
        for _ in range(MAX_PAGES):
            current = self.current
            request = pb.ChangesRequest(
                node_id=self.settings.node_id,
                epoch=current.epoch if current else "",
                version=current.snapshot.version if current else 0,
            )
            try:
                answer = await self.link.changes_since(request, timeout=timeout)
            except grpc.aio.AioRpcError:
                return False
            if answer.unchanged:
                self.synced_at = time.monotonic()
                return True
            if answer.HasField("snapshot"):
                await self.offer(answer.snapshot, "resync")
                continue  # changes published since that snapshot was sealed, if any
            for item in answer.changes:
                if self.offer_changes(item, "resync") is None:
                    break
            if not answer.more:
                return True
        return True

    async def _watch_loop(self) -> None:
        backoff = 0.2
        while True:
            try:
                current = self.current
                request = pb.WatchRequest(
                    node_id=self.settings.node_id,
                    epoch=current.epoch if current else "",
                    version=current.snapshot.version if current else 0,
                )
                async for update in self.link.watch(request):
                    backoff = 0.2
                    self.pushing = True
                    if update.HasField("snapshot"):
                        await self.offer(update.snapshot, "watch")
                    elif self.offer_changes(update.changes, "watch") is None:
                        break  # a gap (say, Redis delivered a newer set first): resume from here
            except grpc.aio.AioRpcError as exc:
                if exc.code() == grpc.StatusCode.UNAUTHENTICATED:
                    log.error("the master refused this node's CLUSTER_SECRET")
            else:
                continue  # the stream was left on purpose: reopen at once
            finally:
                self.pushing = False
            await asyncio.sleep(backoff)
            backoff = min(backoff * 2, 5.0)

    async def _redis_loop(self, redis: Any) -> None:
        backoff = 0.2
        while True:
            try:
                pubsub = redis.pubsub()
                await pubsub.subscribe(REDIS_CHANNEL)
                await self._fetch_redis()  # whatever was published while unsubscribed
                backoff = 0.2
                async for message in pubsub.listen():
                    if message.get("type") != "message":
                        continue
                    try:
                        sealed = pb.SealedChanges.FromString(bytes(message["data"]))
                    except Exception:
                        continue  # not a change set (another writer on the channel)
                    if self.offer_changes(sealed, "redis") is None and not await self.catch_up():
                        await self._fetch_redis()
            except Exception as exc:  # Redis down or restarted: resubscribe
                log.warning("Redis subscription lost; resubscribing", error=str(exc))
            await asyncio.sleep(backoff)
            backoff = min(backoff * 2, 5.0)

    async def _resync_loop(self) -> None:
        while True:
            # Until the first snapshot arrives keep trying every second; then every SYNC_FREQUENCY.
            await asyncio.sleep(1.0 if self.current is None else max(self.settings.sync_frequency, 1))
            if not await self.catch_up():
                await self._fetch_redis()
