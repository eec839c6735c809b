"""Real processes for cluster tests: a master and slaves started as `one-api`, each with its own
ports, database, Redis db number and spool, stopped (and killed if need be) at the end."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Callable

import httpx

from tests.support.ports import free_port  # noqa: F401 - part of the harness API

ROOT = Path(__file__).resolve().parents[2]
SECRET = "cluster-test-secret"
ADMIN = "cluster-admin-access-token"

def wait_for(condition: Callable[[], bool], timeout: float, interval: float = 0.02, what: str = "condition") -> float:
    """Poll until `condition()` holds; returns the seconds it took; fails after `timeout`."""
    started = time.monotonic()
    while True:
        try:
            if condition():
                return time.monotonic() - started
        except (httpx.HTTPError, OSError):
            pass
        if time.monotonic() - started > timeout:
            raise AssertionError(f"{what} did not happen within {timeout} s")
        time.sleep(interval)


class Node:
    def __init__(self, name: str, env: dict[str, str], log_dir: Path, port: int | None = None) -> None:
        self.name = name
        self.port = port or free_port()
        self.env = {**env, "PORT": str(self.port)}
        self.log_path = log_dir / f"{name}.log"
        self.proc: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def launch(self) -> "Node":
        env = {k: v for k, v in os.environ.items() if not k.startswith(("SQL_", "REDIS_", "NODE_", "CLUSTER_", "GRPC_", "MASTER_", "SPOOL_", "FRONTEND_", "SYNC_"))}
        env.update({"SESSION_SECRET": "s", "GLOBAL_API_RATE_LIMIT": "0", "GLOBAL_WEB_RATE_LIMIT": "0", **self.env})
        with open(self.log_path, "ab") as log:
            self.proc = subprocess.Popen([sys.executable, "-m", "shared.cli", "--log-dir", ""], cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT)
        return self

    def wait(self, ready: bool = True, timeout: float = 60) -> "Node":
        """Until /readyz (or only /healthz) answers 200; a loaded CI machine starts Python slowly."""
        path = "/readyz" if ready else "/healthz"
        wait_for(lambda: self._alive() and httpx.get(self.url + path, timeout=1).status_code == 200, timeout, interval=0.1, what=f"{self.name} {path}")
        return self

    def start(self, ready: bool = True) -> "Node":
        return self.launch().wait(ready)

    def _alive(self) -> bool:
        if self.proc is not None and self.proc.poll() is not None:
            raise AssertionError(f"{self.name} exited with {self.proc.returncode}; log:\n{self.log_path.read_text()[-3000:]}")
        return True

    def signal(self, sig: int) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.send_signal(sig)

    def stop(self, timeout: float = 30) -> None:
        """SIGTERM, wait; SIGKILL if it does not exit in time."""
        if self.proc is None:
            return
        self.signal(signal.SIGTERM)
        try:
            self.proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
        self.proc = None

    def kill(self) -> None:
        if self.proc is not None:
            self.proc.kill()
            self.proc.wait()
            self.proc = None


def master_env(dsn: str, grpc_port: int, redis_db: int | None, **extra: str) -> dict[str, str]:
    env = {"SQL_DSN": dsn, "GRPC_PORT": str(grpc_port), "CLUSTER_SECRET": SECRET, "INITIAL_ROOT_ACCESS_TOKEN": ADMIN, **extra}
    if redis_db is not None:
        env["REDIS_CONN_STRING"] = f"redis://127.0.0.1:6379/{redis_db}"
    return env


def slave_env(grpc_port: int, redis_db: int | None, spool: Path, node_id: str, **extra: str) -> dict[str, str]:
    env = {
        "NODE_TYPE": "slave",
        "MASTER_ADDR": f"127.0.0.1:{grpc_port}",
        "CLUSTER_SECRET": SECRET,
        "NODE_ID": node_id,
        "SPOOL_DIR": str(spool),
        "BATCH_UPDATE_INTERVAL": "1",
        **extra,
    }
    if redis_db is not None:
        env["REDIS_CONN_STRING"] = f"redis://127.0.0.1:6379/{redis_db}"
    return env
