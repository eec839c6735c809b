"""What a supervisor tells one of its workers, carried in ONEAPI_WORKER_* environment variables.

These are a private hand-off between `one-api` processes of one launch, not settings for an
operator: they name inherited socket descriptors and a per-launch secret.
"""

from __future__ import annotations

import socket
from collections.abc import Mapping
from dataclasses import dataclass

INDEX, FDS, PEERS, SECRET, FORWARD, GRPC_PORT, GRPC_PUBLIC = (
    "ONEAPI_WORKER_INDEX",
    "ONEAPI_WORKER_FDS",
    "ONEAPI_WORKER_PEERS",
    "ONEAPI_WORKER_SECRET",
    "ONEAPI_WORKER_FORWARD",
    "ONEAPI_WORKER_GRPC_PORT",
    "ONEAPI_WORKER_GRPC_PUBLIC",
)


@dataclass(frozen=True)
class WorkerSlot:
    index: int
    fds: tuple[int, ...]  # the public listening socket, then this worker's private loopback one
    peers: tuple[int, ...]  # every worker's private loopback port, by index
    secret: str  # proves a request came from a worker of this launch
    forward: bool = False  # a master's relay worker: send everything but the relay to worker 0
    # Worker 0 of a master: plain gRPC on 127.0.0.1:<cluster_port> for its relay workers (whatever
    # TLS GRPC_PORT uses), and GRPC_PORT itself only when the operator set CLUSTER_SECRET.
    cluster_port: int = 0
    public_cluster: bool = True

    @property
    def count(self) -> int:
        return len(self.peers)

    def peer_url(self, index: int) -> str:
        return f"http://127.0.0.1:{self.peers[index]}"

    def sockets(self) -> list[socket.socket]:
        return [socket.socket(fileno=fd) for fd in self.fds]

    def to_env(self) -> dict[str, str]:
        return {
            INDEX: str(self.index),
            FDS: ",".join(map(str, self.fds)),
            PEERS: ",".join(map(str, self.peers)),
            SECRET: self.secret,
            FORWARD: "1" if self.forward else "",
            GRPC_PORT: str(self.cluster_port or ""),
            GRPC_PUBLIC: "1" if self.public_cluster else "",
        }


def slot_from_env(env: Mapping[str, str]) -> WorkerSlot | None:
    """The slot of this process, or None when it is not a supervised worker."""
    if not env.get(INDEX):
        return None
    return WorkerSlot(
        index=int(env[INDEX]),
        fds=tuple(int(fd) for fd in env[FDS].split(",")),
        peers=tuple(int(port) for port in env[PEERS].split(",")),
        secret=env[SECRET],
        forward=env.get(FORWARD) == "1",
        cluster_port=int(env.get(GRPC_PORT) or 0),
        public_cluster=env.get(GRPC_PUBLIC) == "1",
    )
