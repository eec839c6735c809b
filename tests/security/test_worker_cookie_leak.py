"""Worker cookie leak: a master's relay worker forwards /api to worker 0 through one shared HTTP
client. That client kept the cookie jar httpx gives it, so a Set-Cookie from one user's login was
stored there and sent with every later cookieless request through that worker: anyone became the
last user who logged in through it (root, typically)."""

from __future__ import annotations

from pathlib import Path

import httpx

from tests.cluster.harness import Node, free_port
from tests.cluster.test_workers import workers

NOT_LOGGED_IN = {"success": False, "message": "无权进行此操作，未登录且未提供 access token"}


def test_a_login_through_a_relay_worker_is_not_shared_with_other_clients(tmp_path: Path) -> None:
    env = {"SQLITE_PATH": str(tmp_path / "m.db"), "WORKERS": "2", "CLUSTER_SECRET": "", "GRPC_PORT": str(free_port())}
    node = Node("master", env, tmp_path).start()
    try:
        relay_worker = workers(node)[1][1]  # its private port: every /api request there is forwarded
        with httpx.Client(base_url=relay_worker, timeout=10) as root:
            assert root.post("/api/user/login", json={"username": "root", "password": "123456"}).json()["success"]
            assert root.get("/api/user/self").json()["data"]["username"] == "root"
        for path in ("/api/user/self", "/api/user/", "/api/user/token"):
            stranger = httpx.get(relay_worker + path, timeout=10)
            assert stranger.status_code == 401 and stranger.json() == NOT_LOGGED_IN, (path, stranger.text)
            assert "set-cookie" not in stranger.headers
    finally:
        node.stop()
