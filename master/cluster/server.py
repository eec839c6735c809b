"""The master's gRPC server: Config (snapshots, changes, a watch stream) and Quota (batches applied
exactly once). Every call must be signed with the cluster secret, once (master.cluster.auth)."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path

import grpc
import orjson

from master.cluster.auth import AuthInterceptor, CallGuard, caller
from master.cluster.batch_check import batch_problem
from master.cluster.publisher import Publisher
from master.context import MasterContext
from master.relay_host import RelayHost
from shared.cluster import GRPC_MESSAGE_OPTIONS
from shared.cluster.convert import batch_from_message, parse_batch_id
from shared.cluster.crypto import ClusterKeys
from shared.cluster.nonces import NonceCache
from shared.cluster.pb import cluster_pb2 as pb
from shared.cluster.pb import cluster_pb2_grpc as rpc
from shared.logs import get_logger
from shared.relay.sink import DeltaBatch
from shared.settings import Settings

log = get_logger(__name__)

# After slave batches land, the change feed publishes their rows at most this often (seconds).
BALANCE_REFRESH = 0.2
CHANGES_PAGE = 500  # change sets per ChangesSince answer or Watch catch-up round


class ConfigService(rpc.ConfigServicer):
    def __init__(self, publisher: Publisher) -> None:
        self.publisher = publisher

    async def GetSnapshot(self, request: pb.SnapshotRequest, context: grpc.aio.ServicerContext) -> pb.SealedSnapshot:
        sealed = await self.publisher.snapshot()
        self.publisher.count_sent(sealed)
        return sealed

    async def ChangesSince(self, request: pb.ChangesRequest, context: grpc.aio.ServicerContext) -> pb.Changes:
        publisher = self.publisher
        changes = publisher.since(request.epoch, request.version, CHANGES_PAGE)
        if changes is None:
            sealed = await publisher.snapshot()
            publisher.count_sent(sealed)
            return pb.Changes(snapshot=sealed)
        if not changes:
            return pb.Changes(unchanged=True)
        for item in changes:
            publisher.count_sent(item)
        return pb.Changes(changes=changes, more=changes[-1].version < publisher.version)

    async def Watch(self, request: pb.WatchRequest, context: grpc.aio.ServicerContext) -> AsyncIterator[pb.Update]:
        """Catch the watcher up (from the log, or with a full snapshot), then push each change set."""
        publisher = self.publisher
        epoch, version = request.epoch, request.version
        while True:
            changes = publisher.since(epoch, version, CHANGES_PAGE)
            if changes is None:  # another epoch, too old, or a watcher that fell out of the window
                sealed = await publisher.snapshot()
                publisher.count_sent(sealed)
                epoch, version = sealed.epoch, sealed.version
                yield pb.Update(snapshot=sealed)
                continue
            for item in changes:
                publisher.count_sent(item)
                yield pb.Update(changes=item)
            if changes:
                version = changes[-1].version
                continue
            await publisher.wait_after(version)


def _checked(request: pb.Batch) -> tuple[DeltaBatch | None, str | None]:
    """The batch (None when unreadable) and why it must be refused (None: it may be applied).
    A slave's biggest batch (2,000 log rows, ~0.7 MB) takes ~15 ms to decode and check: run in a
    thread, so the loop goes on serving relay requests and other batches meanwhile."""
    try:
        batch = batch_from_message(request)
    except orjson.JSONDecodeError:
        return None, "logs: each row must be JSON"
    return batch, batch_problem(batch)


class QuotaService(rpc.QuotaServicer):
    def __init__(self, ctx: MasterContext, host: RelayHost) -> None:
        self.ctx, self.host = ctx, host
        self._dirty = asyncio.Event()
        self._task = asyncio.create_task(self._refresh_loop(), name="cluster-balance-refresh")

    async def ReportBatch(self, request: pb.Batch, context: grpc.aio.ServicerContext) -> pb.BatchAck:
        parsed = parse_batch_id(request.id)
        if parsed is None or parsed[0] != caller():
            await context.abort(grpc.StatusCode.INVALID_ARGUMENT, "batch id must be '<your node id>:<sequence>'")
        batch, problem = await asyncio.to_thread(_checked, request)
        if batch is None or problem is not None:
            log.warning("quota batch refused", batch=request.id, problem=problem)
            await context.abort(grpc.StatusCode.INVALID_ARGUMENT, f"batch refused: {problem}")
            raise AssertionError("ServicerContext.abort returned")  # it raises to end the call
        applied = await self.host.apply_remote(request.id, batch)
        if applied:
            if batch.channel_status or batch.token_status:
                await self.ctx.changed("relay")  # disabled channels and exhausted tokens: push at once
            else:
                self._dirty.set()
        return pb.BatchAck(id=request.id, duplicate=not applied)

    async def _refresh_loop(self) -> None:
        """Slaves refresh balances from change sets, so applied batches must reach one soon."""
        while True:
            await self._dirty.wait()
            self._dirty.clear()
            try:
                await self.ctx.changed("quota")
            except Exception:
                log.exception("balance refresh failed")
            await asyncio.sleep(BALANCE_REFRESH)

    async def close(self) -> None:
        self._task.cancel()
        try:
            await self._task
        except asyncio.CancelledError:
            pass


async def _credentials(settings: Settings) -> grpc.ServerCredentials | None:
    if not (settings.grpc_tls_cert and settings.grpc_tls_key):
        return None
    cert = await asyncio.to_thread(Path(settings.grpc_tls_cert).read_bytes)
    key = await asyncio.to_thread(Path(settings.grpc_tls_key).read_bytes)
    if not settings.grpc_tls_client_ca:
        return grpc.ssl_server_credentials([(key, cert)])
    # Mutual TLS: a peer without a certificate from this CA never reaches the signature check.
    client_ca = await asyncio.to_thread(Path(settings.grpc_tls_client_ca).read_bytes)
    return grpc.ssl_server_credentials([(key, cert)], root_certificates=client_ca, require_client_auth=True)


class ClusterServer:
    """What the master runs for its slaves: the gRPC server and the publisher behind it."""

    def __init__(self, ctx: MasterContext, host: RelayHost) -> None:
        self.ctx, self.host = ctx, host
        self.keys = ClusterKeys(ctx.settings.cluster_secret)
        self.publisher: Publisher | None = None
        self.server: grpc.aio.Server | None = None
        self.quota: QuotaService | None = None
        self.port = 0

    async def start(self) -> None:
        settings = self.ctx.settings
        redis = None
        if settings.redis_enabled:
            import redis.asyncio as aioredis

            redis = aioredis.from_url(settings.redis_conn_string)
        self.publisher = Publisher(self.ctx, self.host, self.keys, redis)
        await self.publisher.start()
        guard = CallGuard(self.keys, NonceCache(settings.cluster_nonce_cap))
        self.server = grpc.aio.server(interceptors=[AuthInterceptor(guard)], options=GRPC_MESSAGE_OPTIONS)
        self.quota = QuotaService(self.ctx, self.host)
        rpc.add_ConfigServicer_to_server(ConfigService(self.publisher), self.server)
        rpc.add_QuotaServicer_to_server(self.quota, self.server)
        host = f"[{settings.grpc_host}]" if ":" in settings.grpc_host else settings.grpc_host
        address = f"{host}:{settings.grpc_port}"
        credentials = await _credentials(settings)
        slot = settings.worker
        if slot is None or slot.public_cluster:
            if credentials is None:
                self.port = self.server.add_insecure_port(address)
            else:
                self.port = self.server.add_secure_port(address, credentials)
        if slot is not None and slot.cluster_port:
            # This node's own relay workers (`--workers`): plain text on loopback, whatever GRPC_PORT
            # uses; calls still need the cluster secret.
            self.server.add_insecure_port(f"127.0.0.1:{slot.cluster_port}")
        await self.server.start()
        log.info(
            "cluster gRPC server listening",
            host=settings.grpc_host,
            port=self.port,
            tls=credentials is not None,
            redis=redis is not None,
            workers_port=slot.cluster_port if slot else None,
        )

    async def stop(self) -> None:
        if self.server is not None:
            await self.server.stop(grace=3)  # let in-flight batches commit and be acknowledged
        if self.quota is not None:
            await self.quota.close()
        if self.publisher is not None:
            await self.publisher.stop()
