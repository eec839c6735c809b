"""The `one-api` command as a user runs it: flags, .env, and a real master process on SQLite."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

from shared.settings import VERSION
from tests.support.ports import free_port

ONE_API = str(Path(sys.executable).with_name("one-api"))


def test_version_and_help() -> None:
    out = subprocess.run([ONE_API, "--version"], capture_output=True, text=True, timeout=30)
    assert out.returncode == 0 and out.stdout.strip() == VERSION
    out = subprocess.run([ONE_API, "--help"], capture_output=True, text=True, timeout=30)
    assert out.returncode == 0
    assert "one-api [--port <port>] [--log-dir <log directory>] [--version] [--help]" in out.stdout


def test_bad_channel_test_frequency_refuses_to_start(tmp_path: Path) -> None:
    env = {**os.environ, "CHANNEL_TEST_FREQUENCY": "soon", "SQLITE_PATH": str(tmp_path / "x.db")}
    out = subprocess.run([ONE_API, "--log-dir", ""], capture_output=True, text=True, timeout=30, env=env, cwd=tmp_path)
    assert out.returncode == 2
    assert "CHANNEL_TEST_FREQUENCY" in out.stderr


def test_master_process_serves_status_and_root_login(tmp_path: Path) -> None:
    """What README's first command promises: a master on SQLite, One API's status, root/123456.
    The port comes from .env (PORT wins over --port) and log files land in --log-dir."""
    port = free_port()
    (tmp_path / ".env").write_text(f"PORT={port}\nSESSION_SECRET=cli-test\n")
    env = {k: v for k, v in os.environ.items() if k not in ("PORT", "SQL_DSN", "SQLITE_PATH", "NODE_TYPE")}
    proc = subprocess.Popen(
        [ONE_API, "--port", "1", "--log-dir", str(tmp_path / "logs")],
        cwd=tmp_path,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
    )
    try:
        deadline = time.monotonic() + 60
        status = None
        while time.monotonic() < deadline:
            try:
                status = httpx.get(f"http://127.0.0.1:{port}/api/status", timeout=1)
                break
            except httpx.TransportError:
                assert proc.poll() is None, proc.stdout.read().decode() if proc.stdout else ""
                time.sleep(0.1)
        assert status is not None and status.status_code == 200
        assert status.json()["data"]["system_name"] == "One API"
        assert status.headers["x-oneapi-request-id"]
        login = httpx.post(f"http://127.0.0.1:{port}/api/user/login", json={"username": "root", "password": "123456"}, timeout=5)
        assert login.json()["success"] is True
        assert login.json()["data"]["username"] == "root"
        assert (tmp_path / "one-api.db").exists()

        def logged() -> bool:  # lines reach the file within the log writer's 0.2 s
            logs = list((tmp_path / "logs").glob("oneapi-*.log"))
            return bool(logs) and "root user created" in logs[0].read_text()

        deadline = time.monotonic() + 10
        while not logged() and time.monotonic() < deadline:
            time.sleep(0.05)
        assert logged()
    finally:
        proc.terminate()
        proc.wait(timeout=30)


def test_host_keeps_the_node_to_one_address(tmp_path: Path) -> None:
    """HOST=127.0.0.2 (loopback, but not 127.0.0.1): the node answers there and nowhere else."""
    port = free_port()
    env = {k: v for k, v in os.environ.items() if k not in ("PORT", "SQL_DSN", "NODE_TYPE", "WORKERS")}
    env.update(HOST="127.0.0.2", PORT=str(port), SQLITE_PATH=str(tmp_path / "one-api.db"), SESSION_SECRET="cli-test")
    proc = subprocess.Popen([ONE_API, "--log-dir", ""], cwd=tmp_path, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    try:
        deadline = time.monotonic() + 60
        status = None
        while status is None and time.monotonic() < deadline:
            try:
                status = httpx.get(f"http://127.0.0.2:{port}/api/status", timeout=1)
            except httpx.TransportError:
                assert proc.poll() is None, proc.stdout.read().decode() if proc.stdout else ""
                time.sleep(0.1)
        assert status is not None and status.status_code == 200
        with pytest.raises(httpx.ConnectError):
            httpx.get(f"http://127.0.0.1:{port}/api/status", timeout=1)
    finally:
        proc.terminate()
        proc.wait(timeout=30)
