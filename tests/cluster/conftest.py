"""Fixtures of the cluster tests: a PostgreSQL database, a Redis db number, the fake upstream, and a
factory of real master/slave processes that are always stopped at the end."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.cluster.harness import ADMIN, Node, free_port, master_env, slave_env
from tests.support.services import FreshDatabase, fresh_redis_db


class Fleet:
    def __init__(self, tmp: Path, dsn: str, redis_db: int | None) -> None:
        self.tmp, self.dsn, self.redis_db = tmp, dsn, redis_db
        self.grpc_port = free_port()
        self.nodes: list[Node] = []
        self.master: Node | None = None

    def start_master(self, **extra: str) -> Node:
        """Launch the master (call `.wait()` on it, or start slaves alongside first)."""
        port = self.master.port if self.master is not None else None
        node = Node("master", master_env(self.dsn, self.grpc_port, self.redis_db, **extra), self.tmp, port=port)
        self.master = node
        self.nodes.append(node)
        return node.launch()

    def slave(self, name: str, redis: bool = True, port: int | None = None, **extra: str) -> Node:
        """A slave node, launched (not yet waited for)."""
        env = slave_env(self.grpc_port, self.redis_db if redis else None, self.tmp / "spool", name, **extra)
        node = Node(name, env, self.tmp, port=port)
        self.nodes.append(node)
        return node.launch()

    def start_slaves(self, *names: str, **extra: str) -> list[Node]:
        """Launch several slaves at once, then wait until each is ready."""
        nodes = [self.slave(name, **extra) for name in names]
        return [node.wait() for node in nodes]

    def admin(self) -> httpx.Client:
        assert self.master is not None
        return httpx.Client(base_url=self.master.url, headers={"Authorization": ADMIN}, timeout=10)

    def close(self) -> None:
        for node in reversed(self.nodes):
            node.stop(timeout=15)


def _fleet(tmp_path: Path, redis: bool) -> Iterator[Fleet]:
    db = FreshDatabase("postgres", tmp_path)
    fleet = Fleet(tmp_path, db.dsn, fresh_redis_db() if redis else None)
    try:
        yield fleet
    finally:
        fleet.close()
        db.drop()


@pytest.fixture
def fleet(tmp_path: Path) -> Iterator[Fleet]:
    """A fleet with Redis (nothing started yet)."""
    yield from _fleet(tmp_path, redis=True)


@pytest.fixture
def fleet_no_redis(tmp_path: Path) -> Iterator[Fleet]:
    yield from _fleet(tmp_path, redis=False)
