"""One launch of N workers: the sockets bound once for all of them and each worker's environment.

The supervisor binds the public port and one private loopback port per worker and keeps them open
for its whole life, so a restarted worker gets the same descriptors and ports: connections wait in
the backlog meanwhile instead of being refused, and peers never learn a new address.

Worker identities are derived from the node's own settings and the worker index only, so a worker
restarted at index i (or the whole node restarted with the same NODE_ID) ships its spool again
under the same node id, which the master's applied-batches dedupe requires.
"""

from __future__ import annotations

import re
import secrets
import socket
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from shared.settings import Settings
from shared.workers.slot import WorkerSlot

BACKLOG = 2048  # uvicorn's default


def worker_node_id(node_id: str, index: int) -> str:
    return f"{node_id}-w{index}"


def worker_spool_dir(spool_dir: str, index: int) -> str:
    return str(Path(spool_dir) / f"w{index}")


def _listening(host: str, port: int) -> socket.socket:
    """A listening, inheritable socket on `host` (IPv4 or IPv6 address, or a name resolved once)."""
    family, kind, proto, _, address = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM, flags=socket.AI_PASSIVE)[0]
    sock = socket.socket(family, kind, proto)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind(address)
        sock.listen(BACKLOG)
    except OSError:
        sock.close()
        raise
    sock.set_inheritable(True)
    return sock


def _free_loopback_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass
class Launch:
    settings: Settings
    public: socket.socket
    private: list[socket.socket]
    secret: str  # proves a request came from a worker of this launch; never logged
    cluster_secret: str
    cluster_port: int  # master: loopback gRPC of worker 0 for the relay workers

    @classmethod
    def bind(cls, settings: Settings) -> Launch:
        """Bind every socket (OSError if the public port is taken)."""
        public = _listening(settings.host, settings.port)
        private = [_listening("127.0.0.1", 0) for _ in range(settings.workers)]
        # A master's relay workers are slaves of worker 0 and need a cluster secret; when the
        # operator set none, one for this launch only keeps the cluster inside the machine.
        cluster_secret = settings.cluster_secret or (secrets.token_urlsafe(32) if settings.is_master else "")
        cluster_port = _free_loopback_port() if settings.is_master else 0
        return cls(settings, public, private, secrets.token_urlsafe(32), cluster_secret, cluster_port)

    @property
    def secret_generated(self) -> bool:
        return self.cluster_secret != self.settings.cluster_secret

    def fds(self, index: int) -> tuple[int, ...]:
        return (self.public.fileno(), self.private[index].fileno())

    def slot(self, index: int) -> WorkerSlot:
        master = self.settings.is_master
        return WorkerSlot(
            index=index,
            fds=self.fds(index),
            peers=tuple(int(sock.getsockname()[1]) for sock in self.private),
            secret=self.secret,
            forward=master and index > 0,
            cluster_port=self.cluster_port if master and index == 0 else 0,
            public_cluster=not self.secret_generated,
        )

    def env(self, index: int, base: Mapping[str, str]) -> dict[str, str]:
        """The environment of worker `index`: the node's own, plus its slot and identity."""
        s = self.settings
        env = {**base, **self.slot(index).to_env()}
        if self.cluster_secret:
            env["CLUSTER_SECRET"] = self.cluster_secret
        if s.is_master and index == 0:
            return env  # the real master: database, /api, console, gRPC, singleton jobs
        env["NODE_ID"] = worker_node_id(s.node_id, index)
        env["SPOOL_DIR"] = worker_spool_dir(s.spool_dir, index)
        if s.is_master:
            env.update(
                NODE_TYPE="slave",
                MASTER_ADDR=f"127.0.0.1:{self.cluster_port}",
                GRPC_TLS_CA="",  # the loopback port is plain text
                GRPC_TLS_CLIENT_CERT="",
                GRPC_TLS_CLIENT_KEY="",
                # No database credentials in a relay (set, not removed: .env must not bring them back).
                SQL_DSN="",
                LOG_SQL_DSN="",
                # Without BATCH_UPDATE_ENABLED the master writes at once; its relay workers come
                # as close as batches allow.
                BATCH_UPDATE_INTERVAL=str(s.batch_update_interval) if s.batch_update_enabled else "1",
            )
        return env

    def close(self) -> None:
        for sock in (self.public, *self.private):
            sock.close()


def stranded_spools(settings: Settings) -> list[Path]:
    """Spool folders holding batches that no worker of this launch will ship: the single-process
    node's own (`SPOOL_DIR/<NODE_ID>`) and those of worker indexes beyond N."""
    root = Path(settings.spool_dir)
    safe_id = re.sub(r"[^A-Za-z0-9_.-]", "_", settings.node_id)  # as slave.shipper names it
    candidates = [root / safe_id]
    if root.is_dir():
        for path in root.iterdir():
            match = re.fullmatch(r"w(\d+)", path.name)
            if match and int(match.group(1)) >= settings.workers:
                candidates.append(path)
    return [path for path in candidates if path.is_dir() and any(f.stat().st_size for f in path.rglob("*.*") if f.is_file())]
