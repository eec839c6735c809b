"""The machine's PostgreSQL, MariaDB and Redis: checked before the suite, started if down, and a
fresh database (or Redis db number) handed to every test. Never skipped: a missing service fails."""

from __future__ import annotations

import itertools
import os
import socket
import subprocess
import threading
import time
import uuid
from pathlib import Path

PG = ("127.0.0.1", 5432)
MYSQL = ("127.0.0.1", 3306)
# TEST_REDIS_PORT lets two test runs on one machine use separate Redis servers (db numbers are
# handed out per process, so two runs against one server would share them).
REDIS = ("127.0.0.1", int(os.environ.get("TEST_REDIS_PORT", "6379")))

START = {
    PG: "pg_ctlcluster --skip-systemctl-redirect $(ls /etc/postgresql) main start",
    MYSQL: "start-stop-daemon --start --oknodo --background --exec /usr/sbin/mariadbd",
    REDIS: f'redis-server --daemonize yes --bind 127.0.0.1 -::1 --port {REDIS[1]} --save "" --appendonly no '
    f"--dir /var/lib/redis --logfile /var/log/redis/ci-{REDIS[1]}.log",
}


def _open(addr: tuple[str, int]) -> bool:
    try:
        with socket.create_connection(addr, timeout=1):
            return True
    except OSError:
        return False


def ensure_service(addr: tuple[str, int]) -> None:
    """Start the service at `addr` if it is down; raise if it still does not answer within 30 s.

    With TEST_SERVICES=off (`make test-unit`) any use is an error: a test that needs PostgreSQL,
    MariaDB or Redis must carry the `db` marker (tests/conftest.py assigns the markers)."""
    if os.environ.get("TEST_SERVICES") == "off":
        raise RuntimeError(f"TEST_SERVICES=off but a test needs the service at {addr[0]}:{addr[1]}: mark it `db`")
    if addr in _checked or _open(addr):
        _checked.add(addr)
        return
    command = START[addr]
    subprocess.run(command, shell=True, check=False)
    deadline = time.monotonic() + 30
    while not _open(addr):
        if time.monotonic() > deadline:
            raise RuntimeError(f"service at {addr[0]}:{addr[1]} is down and `{command}` did not start it")
        time.sleep(0.2)
    _checked.add(addr)


_checked: set[tuple[str, int]] = set()


def _unique(prefix: str) -> str:
    return f"{prefix}_{os.getpid()}_{uuid.uuid4().hex[:10]}"


class FreshDatabase:
    """A throwaway database on one backend; `dsn` is in One API's SQL_DSN form.

    PostgreSQL and MySQL databases are cloned from a template migrated once per test session (a
    real migration run, just not repeated 100 times), and dropped together when the session ends.
    """

    _templates: dict[str, str] = {}
    _to_drop: list[tuple[str, str]] = []

    def __init__(self, backend: str, tmp: Path, from_template: bool = True) -> None:
        self.backend = backend
        self.name = _unique("oneapi")
        self.sqlite_path = ""
        if backend == "sqlite":
            self.dsn = ""
            self.sqlite_path = str(tmp / f"{self.name}.db")
        elif backend == "postgres":
            ensure_service(PG)
            template = self._template(backend) if from_template else None
            self._psql(f'CREATE DATABASE "{self.name}"' + (f' TEMPLATE "{template}"' if template else ""))
            self.dsn = f"postgres://postgres@127.0.0.1:5432/{self.name}"
        elif backend == "mysql":
            ensure_service(MYSQL)
            self._mysql(f"CREATE DATABASE `{self.name}` CHARACTER SET utf8mb4")
            if from_template:
                self._clone_mysql(self._template(backend), self.name)
            self.dsn = f"root:@tcp(127.0.0.1:3306)/{self.name}"
        else:
            raise ValueError(backend)

    @classmethod
    def _template(cls, backend: str) -> str:
        if backend not in cls._templates:
            import asyncio

            from master.db.store import open_store
            from shared.settings import build_settings

            db = FreshDatabase(backend, Path("/tmp"), from_template=False)

            async def migrate() -> None:
                store = await open_store(build_settings({"SQL_DSN": db.dsn}), run_migrations=True)
                await store.close()

            # A thread of its own: callers may already be inside a running event loop.
            errors: list[BaseException] = []

            def run() -> None:
                try:
                    asyncio.run(migrate())
                except BaseException as exc:  # re-raised in the caller's thread
                    errors.append(exc)

            worker = threading.Thread(target=run)
            worker.start()
            worker.join()
            if errors:
                raise RuntimeError(f"migrating the {backend} template database failed") from errors[0]
            cls._templates[backend] = db.name
        return cls._templates[backend]

    @classmethod
    def _clone_mysql(cls, template: str, target: str) -> None:
        tables = subprocess.run(
            ["mariadb", "-h", "127.0.0.1", "-uroot", "-N", "-e", f"SHOW TABLES FROM `{template}`"],
            check=True,
            capture_output=True,
            text=True,
        ).stdout.split()
        sql = "".join(f"CREATE TABLE `{target}`.`{t}` LIKE `{template}`.`{t}`;" for t in tables)
        sql += "".join(f"INSERT INTO `{target}`.`{t}` SELECT * FROM `{template}`.`{t}`;" for t in tables if t.startswith("alembic_version"))
        cls._mysql(sql)

    @staticmethod
    def _psql(sql: str) -> None:
        subprocess.run(["psql", "-h", "127.0.0.1", "-U", "postgres", "-d", "postgres", "-qc", sql], check=True, capture_output=True)

    @staticmethod
    def _mysql(sql: str) -> None:
        subprocess.run(["mariadb", "-h", "127.0.0.1", "-uroot", "-e", sql], check=True, capture_output=True)

    def env(self) -> dict[str, str]:
        return {"SQL_DSN": self.dsn, "SQLITE_PATH": self.sqlite_path} if self.dsn == "" else {"SQL_DSN": self.dsn}

    def drop(self) -> None:
        """Queue the drop for the end of the session (one client call per backend)."""
        if self.backend in ("postgres", "mysql"):
            FreshDatabase._to_drop.append((self.backend, self.name))

    @classmethod
    def drop_all(cls) -> None:
        names = cls._to_drop + [(b, n) for b, n in cls._templates.items()]
        pg = [n for b, n in names if b == "postgres"]
        my = [n for b, n in names if b == "mysql"]
        for name in pg:
            subprocess.run(
                ["psql", "-h", "127.0.0.1", "-U", "postgres", "-d", "postgres", "-qc", f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'],
                capture_output=True,
            )
        if my:
            subprocess.run(
                ["mariadb", "-h", "127.0.0.1", "-uroot", "-e", "".join(f"DROP DATABASE IF EXISTS `{n}`;" for n in my)], capture_output=True
            )
        cls._to_drop.clear()
        cls._templates.clear()


_redis_numbers = itertools.cycle(range(1, 16))


def redis_url(db: int) -> str:
    return f"redis://{REDIS[0]}:{REDIS[1]}/{db}"


def fresh_redis_db() -> int:
    """A Redis db number, flushed before use (cycling 1..15; tests run one at a time; db 0 is left to people)."""
    import redis

    ensure_service(REDIS)
    number = next(_redis_numbers)
    redis.Redis(host=REDIS[0], port=REDIS[1], db=number).flushdb()
    return number
