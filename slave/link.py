"""The slave's gRPC channel to the master, every call signed with the cluster secret.

A call's signature covers the exact bytes sent (see shared.cluster.crypto.sign_call), so the link
serialises each request itself, signs those bytes and hands them to gRPC as they are.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from pathlib import Path
from typing import Any

import grpc

from shared.cluster import GRPC_MESSAGE_OPTIONS
from shared.cluster.crypto import AUTH_HEADER, ClusterKeys
from shared.cluster.pb import cluster_pb2 as pb
from shared.settings import Settings

Metadata = tuple[tuple[str, str], ...]


def method_path(service: str, method: str) -> str:
    """The gRPC path of a cluster method, e.g. "/oneapi.cluster.v1.Quota/ReportBatch"."""
    return f"/{pb.DESCRIPTOR.services_by_name[service].full_name}/{method}"


GET_SNAPSHOT = method_path("Config", "GetSnapshot")
CHANGES_SINCE = method_path("Config", "ChangesSince")
WATCH = method_path("Config", "Watch")
REPORT_BATCH = method_path("Quota", "ReportBatch")


async def _read(path: str) -> bytes | None:
    return await asyncio.to_thread(Path(path).read_bytes) if path else None


async def channel_credentials(settings: Settings) -> grpc.ChannelCredentials | None:
    """TLS toward the master when GRPC_TLS_CA or a client certificate (mutual TLS) is set."""
    if not (settings.grpc_tls_ca or settings.grpc_tls_client_cert):
        return None
    return grpc.ssl_channel_credentials(
        root_certificates=await _read(settings.grpc_tls_ca),
        private_key=await _read(settings.grpc_tls_client_key),
        certificate_chain=await _read(settings.grpc_tls_client_cert),
    )


class MasterLink:
    def __init__(self, settings: Settings, keys: ClusterKeys) -> None:
        self.settings, self.keys = settings, keys
        self.channel: grpc.aio.Channel | None = None

    async def open(self) -> None:
        options = [
            ("grpc.keepalive_time_ms", 10_000),
            ("grpc.keepalive_timeout_ms", 5_000),
            ("grpc.initial_reconnect_backoff_ms", 200),
            ("grpc.max_reconnect_backoff_ms", 2_000),
            *GRPC_MESSAGE_OPTIONS,
        ]
        credentials = await channel_credentials(self.settings)
        if credentials is not None:
            self.channel = grpc.aio.secure_channel(self.settings.master_addr, credentials, options=options)
        else:
            self.channel = grpc.aio.insecure_channel(self.settings.master_addr, options=options)

    def signed(self, path: str, request: Any) -> tuple[bytes, Metadata]:
        """The request's bytes and the metadata signing them for one call of `path`."""
        body: bytes = request.SerializeToString(deterministic=True)
        return body, ((AUTH_HEADER, self.keys.sign_call(path, self.settings.node_id, body)),)

    def _unary(self, path: str, request: Any, response: Callable[[bytes], Any], timeout: float) -> Any:
        assert self.channel is not None, "MasterLink.open() first"
        body, metadata = self.signed(path, request)
        call = self.channel.unary_unary(path, request_serializer=None, response_deserializer=response)
        return call(body, timeout=timeout, metadata=metadata)

    async def get_snapshot(self, request: pb.SnapshotRequest, timeout: float) -> pb.SealedSnapshot:
        return await self._unary(GET_SNAPSHOT, request, pb.SealedSnapshot.FromString, timeout)

    async def changes_since(self, request: pb.ChangesRequest, timeout: float) -> pb.Changes:
        return await self._unary(CHANGES_SINCE, request, pb.Changes.FromString, timeout)

    async def report_batch(self, request: pb.Batch, timeout: float) -> pb.BatchAck:
        return await self._unary(REPORT_BATCH, request, pb.BatchAck.FromString, timeout)

    def watch(self, request: pb.WatchRequest) -> grpc.aio.UnaryStreamCall:
        """The Watch stream of updates (change sets, or a full snapshot); its one request is what is signed."""
        assert self.channel is not None, "MasterLink.open() first"
        body, metadata = self.signed(WATCH, request)
        call = self.channel.unary_stream(WATCH, request_serializer=None, response_deserializer=pb.Update.FromString)
        return call(body, metadata=metadata)

    async def close(self) -> None:
        if self.channel is not None:
            await self.channel.close()
