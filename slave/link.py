"""The slave's gRPC channel to the master, every call signed with the cluster secret."""

from __future__ import annotations

import asyncio
from pathlib import Path

import grpc

from shared.cluster import GRPC_MESSAGE_OPTIONS
from shared.cluster.crypto import AUTH_HEADER, ClusterKeys
from shared.cluster.pb import cluster_pb2_grpc as rpc
from shared.settings import Settings


class MasterLink:
    def __init__(self, settings: Settings, keys: ClusterKeys) -> None:
        self.settings, self.keys = settings, keys
        self.channel: grpc.aio.Channel | None = None
        self.config: rpc.ConfigStub | None = None
        self.quota: rpc.QuotaStub | None = None

    async def open(self) -> None:
        options = [("grpc.keepalive_time_ms", 10_000), ("grpc.keepalive_timeout_ms", 5_000), ("grpc.initial_reconnect_backoff_ms", 200), ("grpc.max_reconnect_backoff_ms", 2_000), *GRPC_MESSAGE_OPTIONS]
        if self.settings.grpc_tls_ca:
            root = await asyncio.to_thread(Path(self.settings.grpc_tls_ca).read_bytes)
            self.channel = grpc.aio.secure_channel(self.settings.master_addr, grpc.ssl_channel_credentials(root), options=options)
        else:
            self.channel = grpc.aio.insecure_channel(self.settings.master_addr, options=options)
        self.config = rpc.ConfigStub(self.channel)
        self.quota = rpc.QuotaStub(self.channel)

    def metadata(self) -> tuple[tuple[str, str], ...]:
        """Signed per call: the signature carries a timestamp."""
        return ((AUTH_HEADER, self.keys.auth_value(self.settings.node_id)),)

    async def close(self) -> None:
        if self.channel is not None:
            await self.channel.close()
