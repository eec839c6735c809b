"""The machine's PostgreSQL, MariaDB and Redis: checked before the suite, started if down, and a
fresh database (or Redis db number) handed to every test. Never skipped: a missing service fails."""

from __future__ import annotations

import itertools
import os
import socket
import subprocess
import time
import uuid
from pathlib import Path

PG = ("127.0.0.1", 5432)
MYSQL = ("127.0.0.1", 3306)
REDIS = ("127.0.0.1", 6379)

START = {
    PG: "pg_ctlcluster --skip-systemctl-redirect $(ls /etc/postgresql) main start",
    MYSQL: "start-stop-daemon --start --oknodo --background --exec /usr/sbin/mariadbd",
    REDIS: 'redis-server --daemonize yes --bind 127.0.0.1 -::1 --port 6379 --save "" --appendonly no '
    "--dir /var/lib/redis --logfile /var/log/redis/ci.log",
}


def _open(addr: tuple[str, int]) -> bool:
    try:
        with socket.create_connection(addr, timeout=1):
            return True
    except OSError:
        return False


def ensure_services() -> None:
    """Start whichever service is down; raise if it still does not answer within 30 s."""
    for addr, command in START.items():
        if _open(addr):
            continue
        subprocess.run(command, shell=True, check=False)
        deadline = time.monotonic() + 30
        while not _open(addr):
            if time.monotonic() > deadline:
                raise RuntimeError(f"service at {addr[0]}:{addr[1]} is down and `{command}` did not start it")
            time.sleep(0.2)


def _unique(prefix: str) -> str:
    return f"{prefix}_{os.getpid()}_{uuid.uuid4().hex[:10]}"


class FreshDatabase:
    """A throwaway database on one backend; `dsn` is in One API's SQL_DSN form."""

    def __init__(self, backend: str, tmp: Path) -> None:
        self.backend = backend
        self.name = _unique("oneapi")
        if backend == "sqlite":
            self.dsn = ""
            self.sqlite_path = str(tmp / f"{self.name}.db")
        elif backend == "postgres":
            self._psql(f'CREATE DATABASE "{self.name}"')
            self.dsn = f"postgres://postgres@127.0.0.1:5432/{self.name}"
            self.sqlite_path = ""
        elif backend == "mysql":
            self._mysql(f"CREATE DATABASE `{self.name}` CHARACTER SET utf8mb4")
            self.dsn = f"root:@tcp(127.0.0.1:3306)/{self.name}"
            self.sqlite_path = ""
        else:
            raise ValueError(backend)

    @staticmethod
    def _psql(sql: str) -> None:
        subprocess.run(["psql", "-h", "127.0.0.1", "-U", "postgres", "-d", "postgres", "-qc", sql], check=True, capture_output=True)

    @staticmethod
    def _mysql(sql: str) -> None:
        subprocess.run(["mariadb", "-h", "127.0.0.1", "-uroot", "-e", sql], check=True, capture_output=True)

    def env(self) -> dict[str, str]:
        return {"SQL_DSN": self.dsn, "SQLITE_PATH": self.sqlite_path} if self.dsn == "" else {"SQL_DSN": self.dsn}

    def drop(self) -> None:
        if self.backend == "postgres":
            self._psql(f'DROP DATABASE IF EXISTS "{self.name}" WITH (FORCE)')
        elif self.backend == "mysql":
            self._mysql(f"DROP DATABASE IF EXISTS `{self.name}`")


_redis_numbers = itertools.cycle(range(1, 16))


def fresh_redis_db() -> int:
    """A Redis db number, flushed before use (cycling 1..15; tests run one at a time; db 0 is left to people)."""
    import redis

    number = next(_redis_numbers)
    redis.Redis(host=REDIS[0], port=REDIS[1], db=number).flushdb()
    return number
