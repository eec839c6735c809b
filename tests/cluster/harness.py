"""Real processes for cluster tests: a master and slaves started as `one-api`, each with its own
ports, database, Redis db number and spool, stopped (and killed if need be) at the end."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx

from tests.support.ports import free_port  # noqa: F401 - part of the harness API
from tests.support.services import redis_url

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

    def launch(self) -> Node:
        env = {
            k: v
            for k, v in os.environ.items()
            if not k.startswith(("SQL_", "REDIS_", "NODE_", "CLUSTER_", "GRPC_", "MASTER_", "SPOOL_", "FRONTEND_", "SYNC_"))
        }
        env.update({"SESSION_SECRET": "s", "GLOBAL_API_RATE_LIMIT": "0", "GLOBAL_WEB_RATE_LIMIT": "0", **self.env})
        with open(self.log_path, "ab") as log:
            self.proc = subprocess.Popen(
                [sys.executable, "-m", "shared.cli", "--log-dir", ""], cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT
            )
        return self

    def wait(self, ready: bool = True, timeout: float = 60) -> Node:
        """Until /readyz (or only /healthz) answers 200; a loaded CI machine starts Python slowly."""
        path = "/readyz" if ready else "/healthz"
        wait_for(
            lambda: self._alive() and httpx.get(self.url + path, timeout=1).status_code == 200,
            timeout,
            interval=0.1,
            what=f"{self.name} {path}",
        )
        return self

    def start(self, ready: bool = True) -> Node:
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
        env["REDIS_CONN_STRING"] = redis_url(redis_db)
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
        env["REDIS_CONN_STRING"] = redis_url(redis_db)
    return env


# -- chaos helpers: a dedicated Redis, haproxy in front of the fleet, a fake upstream with a gate --


class RedisServer:
    """A private `redis-server` on its own port (never the shared 6379), killable and restartable."""

    def __init__(self, log_dir: Path) -> None:
        self.port = free_port()
        self.log_dir = log_dir
        self.proc: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> RedisServer:
        import redis

        args = ["redis-server", "--port", str(self.port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no", "--daemonize", "no"]
        with open(self.log_dir / "redis.log", "ab") as log:
            self.proc = subprocess.Popen(args, cwd=self.log_dir, stdout=log, stderr=subprocess.STDOUT)
        client = redis.Redis(port=self.port, socket_timeout=1)
        try:
            wait_for(lambda: self.proc is not None and self.proc.poll() is None and client.ping(), 10, what="redis-server ping")
        finally:
            client.close()
        return self

    def kill(self) -> None:
        if self.proc is not None:
            self.proc.kill()
            self.proc.wait()
            self.proc = None

    def stop(self) -> None:
        if self.proc is not None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
            self.proc = None


class Balancer:
    """haproxy with deploy/haproxy.cfg on free ports, plus a stats socket to watch its servers."""

    def __init__(self, log_dir: Path, master_port: int, slave_ports: tuple[int, int]) -> None:
        self.port = free_port()
        self.log_dir = log_dir
        self.socket = log_dir / "haproxy.sock"
        self.ports = {"LB_PORT": self.port, "MASTER_PORT": master_port, "SLAVE1_PORT": slave_ports[0], "SLAVE2_PORT": slave_ports[1]}
        self.proc: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> Balancer:
        import shutil

        text = (ROOT / "deploy" / "haproxy.cfg").read_text()
        config = self.log_dir / "haproxy.cfg"
        config.write_text(text.replace("global\n", f"global\n    stats socket {self.socket} mode 600 level admin\n", 1))
        binary = shutil.which("haproxy") or "/usr/sbin/haproxy"
        env = {**os.environ, **{k: str(v) for k, v in self.ports.items()}}
        with open(self.log_dir / "haproxy.log", "ab") as log:
            self.proc = subprocess.Popen([binary, "-db", "-f", str(config)], env=env, stdout=log, stderr=subprocess.STDOUT)
        wait_for(lambda: self.proc is not None and self.proc.poll() is None and self.socket.exists(), 10, what="haproxy stats socket")
        return self

    def status(self) -> dict[tuple[str, str], str]:
        """(backend, server) -> haproxy's status (UP, DOWN, 'UP 1/2', MAINT, ...)."""
        import csv
        import socket

        with socket.socket(socket.AF_UNIX) as sock:
            sock.settimeout(5)
            sock.connect(str(self.socket))
            sock.sendall(b"show stat\n")
            raw = b"".join(iter(lambda: sock.recv(65536), b""))
        rows = csv.DictReader(raw.decode().lstrip("# ").splitlines())
        return {(row["pxname"], row["svname"]): row["status"] for row in rows}

    def wait_up(self, *servers: tuple[str, str], timeout: float = 30) -> None:
        wait_for(lambda: all(self.status().get(s) == "UP" for s in servers), timeout, interval=0.05, what=f"haproxy sees {servers} UP")

    def stop(self) -> None:
        if self.proc is not None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
            self.proc = None


class Gate:
    """ASGI middleware in front of the fake upstream. While holding, requests wait here, unseen by the
    fake; one whose client (a slave) goes away meanwhile is dropped, so the fake never serves it."""

    def __init__(self, app: Any) -> None:
        self.app = app
        self._lock = threading.Lock()
        self._holding = False
        self._release: asyncio.Event | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._parked: dict[int, int] = {}  # id(scope) -> the client's source port
        self.inside = 0  # requests the fake is answering now
        self.dropped = 0

    def hold(self) -> None:
        with self._lock:
            self._holding = True

    def release(self) -> None:
        with self._lock:
            self._holding = False
            event, loop, self._release = self._release, self._loop, None
        if event is not None and loop is not None:
            loop.call_soon_threadsafe(event.set)

    def parked_ports(self) -> set[int]:
        with self._lock:
            return set(self._parked.values())

    def settled_inside(self) -> bool:
        with self._lock:
            return self.inside == 0

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        with self._lock:
            release = None
            if self._holding:
                if self._release is None:
                    self._release, self._loop = asyncio.Event(), asyncio.get_running_loop()
                release = self._release
                self._parked[id(scope)] = scope["client"][1]
            else:
                self.inside += 1
        if release is not None:
            receive, left = await self._park(receive, release)
            with self._lock:
                self._parked.pop(id(scope))
                if left:
                    self.dropped += 1
                    return
                self.inside += 1
        try:
            await self.app(scope, receive, send)
        finally:
            with self._lock:
                self.inside -= 1

    @staticmethod
    async def _park(receive: Any, release: asyncio.Event) -> tuple[Any, bool]:
        """Wait for `release` or the client's disconnect; returns a receive that replays the body."""
        messages = []
        while True:
            message = await receive()
            if message["type"] == "http.disconnect":
                return receive, True
            messages.append(message)
            if not message.get("more_body"):
                break
        gone = asyncio.ensure_future(receive())  # after the body, only a disconnect comes
        released = asyncio.ensure_future(release.wait())
        await asyncio.wait({gone, released}, return_when=asyncio.FIRST_COMPLETED)
        if gone.done():
            released.cancel()
            return receive, True
        gone.cancel()
        replay = iter(messages)

        async def again() -> Any:
            message = next(replay, None)
            return message if message is not None else await receive()

        return again, False


class GatedFake:
    """The fake upstream (its own state) behind a `Gate`, in a thread of the test process."""

    def __init__(self) -> None:
        from tests.fake_upstream.app import create_app, install_log_filter
        from tests.fake_upstream.state import FakeState
        from tests.support.threaded_server import ThreadedServer

        install_log_filter()
        self.state = FakeState()
        self.gate = Gate(create_app(self.state))
        self._runner = ThreadedServer(self.gate, "127.0.0.1", "gated-fake").start()
        self.port = self._runner.port

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def stop(self) -> None:
        self.gate.release()
        self._runner.stop()


def tcp_ports(pid: int, remote_port: int) -> set[int]:
    """Local ports of the TCP connections process `pid` holds open to `remote_port` (from /proc)."""
    inodes = set()
    for fd in os.listdir(f"/proc/{pid}/fd"):
        try:
            link = os.readlink(f"/proc/{pid}/fd/{fd}")
        except OSError:
            continue
        if link.startswith("socket:["):
            inodes.add(link[8:-1])
    ports = set()
    for table in ("tcp", "tcp6"):
        with open(f"/proc/{pid}/net/{table}") as f:
            for line in f.read().splitlines()[1:]:
                fields = line.split()
                if fields[9] in inodes and int(fields[2].rsplit(":", 1)[1], 16) == remote_port:
                    ports.add(int(fields[1].rsplit(":", 1)[1], 16))
    return ports


def relayed_count(node: Node) -> int:
    """Requests a node has settled since it started (its oneapi_relay_requests counter)."""
    text = httpx.get(node.url + "/metrics", timeout=5).text
    return int(sum(float(line.rsplit(" ", 1)[1]) for line in text.splitlines() if line.startswith("oneapi_relay_requests_total")))
