"""`--workers N` with real processes: N workers behind one port, singleton work in worker 0.

The kernel spreads connections over the workers at random, so where a test must reach one worker
it talks to that worker's private loopback port (read, like its pid, from /proc): that port serves
the same app as the public one, minus the trust that only this launch's secret grants.
"""

from __future__ import annotations

import os
import signal
import socket
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import httpx

from tests.cluster.harness import Node, wait_for
from tests.cluster.ops import add_channel, add_token
from tests.cluster.test_exactly_once import _sql

CHAT = {"model": "gpt-3.5-turbo", "messages": [{"role": "user", "content": "which worker?"}]}


def _children(pid: int) -> list[int]:
    found = []
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                with open(f"/proc/{entry}/stat") as f:
                    fields = f.read().rsplit(")", 1)[1].split()
            except OSError:
                continue
            if int(fields[1]) == pid:
                found.append(int(entry))
    return found


def workers(node: Node) -> dict[int, tuple[int, str]]:
    """Worker index -> (pid, URL of its private port), for the supervisor `node`."""
    assert node.proc is not None
    out = {}
    for pid in _children(node.proc.pid):
        try:
            with open(f"/proc/{pid}/environ", "rb") as f:
                env = dict(item.split(b"=", 1) for item in f.read().split(b"\0") if b"=" in item)
        except OSError:
            continue
        if b"ONEAPI_WORKER_INDEX" in env:
            index = int(env[b"ONEAPI_WORKER_INDEX"])
            port = env[b"ONEAPI_WORKER_PEERS"].decode().split(",")[index]
            out[index] = (pid, f"http://127.0.0.1:{port}")
    return out


def _chat(url: str, token: dict[str, Any]) -> int:
    """One relay request on a fresh connection (so the kernel picks a worker each time)."""
    return httpx.post(
        url + "/v1/chat/completions", headers={"Authorization": f"Bearer sk-{token['key']}"}, json=CHAT, timeout=30
    ).status_code


def _load(url: str, token: dict[str, Any], count: int) -> list[int]:
    with ThreadPoolExecutor(8) as pool:
        return list(pool.map(lambda _: _chat(url, token), range(count)))


def _assert_billed_exactly(dsn: str, fake_upstream: Any, token: dict[str, Any], channel_id: int) -> int:
    """Every request the fake served is one log row; token, user and channel totals equal their sum."""
    served = len([r for r in fake_upstream.requests if r.served_usage])
    wait_for(
        lambda: _sql(dsn, "select count(*) from logs where type = 2") == [str(served)], 30, interval=0.2, what="every served request billed"
    )
    quota = int(_sql(dsn, "select sum(quota) from logs where type = 2")[0])
    used, remain = map(int, _sql(dsn, f"select used_quota, remain_quota from tokens where id = {token['id']}")[0].split("|"))
    assert (used, remain) == (quota, 10**9 - quota)
    assert int(_sql(dsn, f"select used_quota from channels where id = {channel_id}")[0]) == quota
    assert int(_sql(dsn, "select used_quota from users where username = 'root'")[0]) == quota
    return served


def _shipped_by(dsn: str, node_id: str) -> int:
    """Batches the node has had applied: its sequences start at 1 and the master keeps the newest."""
    ids = [line for line in _sql(dsn, f"select id from applied_batches where id like '{node_id}:%'") if line]
    return max((int(i.rpartition(":")[2]) for i in ids), default=0)


def _stop_cleanly(node: Node, pids: list[int]) -> None:
    assert node.proc is not None
    node.signal(signal.SIGTERM)
    assert node.proc.wait(timeout=60) == 0, node.log_path.read_text()[-3000:]
    for pid in pids:  # reaped by the supervisor: gone, not zombies
        assert not os.path.exists(f"/proc/{pid}"), pid


def test_slave_workers_each_ship_their_own_spool(fleet, fake_upstream) -> None:
    master = fleet.start_master().wait()
    with fleet.admin() as admin:
        channel_id = add_channel(admin, fake_upstream.url)
        token = add_token(admin, unlimited_quota=False, remain_quota=10**9)
    # Deltas stay in the spools until SIGKILL (worker 1) or SIGTERM (both): nothing ships early.
    slave = fleet.slave("slave-w", WORKERS="2", BATCH_UPDATE_INTERVAL="60").wait()  # /readyz: both workers hold the token
    before = workers(slave)
    assert sorted(before) == [0, 1]

    assert set(_load(slave.url, token, 120)) == {200}
    assert set(_load(before[1][1], token, 10)) == {200}  # worker 1 surely holds deltas
    spool = fleet.tmp / "spool"
    assert {p.name for p in spool.iterdir()} == {"w0", "w1"}
    held = list((spool / "w1" / "slave-w-w1").glob("*.open"))
    assert held and held[0].stat().st_size > 0

    os.kill(before[1][0], signal.SIGKILL)
    wait_for(lambda: workers(slave).get(1, before[1])[0] != before[1][0], 30, what="worker 1 restarted")
    slave.wait()
    wait_for(lambda: _shipped_by(fleet.dsn, "slave-w-w1") >= 1, 30, interval=0.2, what="restarted worker 1 re-shipped its spool")
    after = workers(slave)
    assert after[0] == before[0] and after[1][1] == before[1][1]  # worker 0 untouched; same private port
    assert set(_load(slave.url, token, 40)) == {200}
    for _, url in after.values():  # each worker surely holds deltas for the stop to ship
        assert set(_load(url, token, 5)) == {200}

    _stop_cleanly(slave, [pid for pid, _ in workers(slave).values()])
    assert _shipped_by(fleet.dsn, "slave-w-w0") >= 1 and _shipped_by(fleet.dsn, "slave-w-w1") >= 2
    assert _shipped_by(fleet.dsn, "slave-w") == 0  # no batch under the single-process id
    served = _assert_billed_exactly(fleet.dsn, fake_upstream, token, channel_id)
    assert served == 120 + 10 + 40 + 10
    assert "worker exited unexpectedly; restarting it" in slave.log_path.read_text()
    master.stop()


def test_master_workers_share_api_relay_and_singletons(fleet, fake_upstream) -> None:
    # No CLUSTER_SECRET: the launch makes one for its relay workers and keeps GRPC_PORT closed.
    master = fleet.start_master(WORKERS="2", CLUSTER_SECRET="").wait()
    procs = workers(master)
    assert sorted(procs) == [0, 1]
    with socket.socket() as probe:
        assert probe.connect_ex(("127.0.0.1", fleet.grpc_port)) != 0, "GRPC_PORT must stay closed"
    front, relay = procs[0][1], procs[1][1]

    # /api through worker 1 (forwarded to worker 0) and worker 0 alike: one session, one database.
    with httpx.Client(base_url=relay, timeout=10) as via_relay:
        login = via_relay.post("/api/user/login", json={"username": "root", "password": "123456"})
        assert login.json()["success"], login.text
        assert login.cookies.get("session")
        assert len(login.headers.get_list("x-oneapi-request-id")) == 1  # worker 0's, passed through
        cookies = dict(via_relay.cookies)
        made = via_relay.post(
            "/api/token/", json={"name": "via-relay", "expired_time": -1, "remain_quota": 10**9, "unlimited_quota": False}
        )
        assert made.json()["success"], made.text
        page = via_relay.get("/", headers={"accept-encoding": "gzip"})
    with httpx.Client(base_url=front, cookies=cookies, timeout=10) as direct:
        tokens = direct.get("/api/token/?p=0").json()["data"]
        same = direct.get("/", headers={"accept-encoding": "gzip"})
    assert (page.status_code, page.headers.get("content-type"), page.headers.get("content-encoding"), page.content) == (
        same.status_code,
        same.headers.get("content-type"),
        same.headers.get("content-encoding"),
        same.content,
    )
    token = next(t for t in tokens if t["name"] == "via-relay")
    fresh = httpx.Limits(max_keepalive_connections=0)  # a new connection, a random worker, each time
    with httpx.Client(base_url=master.url, cookies=cookies, limits=fresh, timeout=10) as public:
        assert all(public.get("/api/user/self").json()["success"] for _ in range(20))

    with fleet.admin() as admin:
        channel_id = add_channel(admin, fake_upstream.url)
    ok = 0

    def both_relay() -> bool:
        nonlocal ok
        results = [_chat(url, token) for url in (front, relay)]
        ok += results.count(200)
        return results == [200, 200]

    wait_for(both_relay, 10, what="channel on both workers")
    assert set(_load(master.url, token, 100)) == {200}
    assert set(_load(relay, token, 20)) == {200}
    served = _assert_billed_exactly(fleet.dsn, fake_upstream, token, channel_id)
    assert served == ok + 100 + 20
    node_id = f"{socket.gethostname()}-{master.port}"
    assert _shipped_by(fleet.dsn, f"{node_id}-w1") >= 1  # worker 1 billed as a slave of worker 0

    # One scrape for the node: both workers, told apart by a label; ready only when both are.
    metrics = httpx.get(master.url + "/metrics", timeout=10).text
    assert 'oneapi_node_info{worker="0",node_type="master"' in metrics and 'oneapi_node_info{worker="1",node_type="slave"' in metrics
    assert metrics.count("# TYPE oneapi_http_requests_total counter") == 1
    assert httpx.get(master.url + "/readyz", timeout=5).json()["workers"] == {"0": "ok", "1": "ok"}

    # A relay worker killed outright comes back on the same private port, and bills again.
    os.kill(procs[1][0], signal.SIGKILL)
    wait_for(lambda: workers(master).get(1, procs[1])[0] != procs[1][0], 30, what="worker 1 restarted")
    master.wait()
    assert workers(master)[1][1] == relay
    assert set(_load(relay, token, 10)) == {200}
    assert _assert_billed_exactly(fleet.dsn, fake_upstream, token, channel_id) == served + 10

    _stop_cleanly(master, [pid for pid, _ in workers(master).values()])
    lines = master.log_path.read_text().splitlines()
    assert any("worker exited unexpectedly; restarting it" in line for line in lines)
    grpc = [line for line in lines if "cluster gRPC server listening" in line]
    assert grpc and all('"worker":0' in line for line in grpc)  # the singletons live in worker 0
    assert any('"starting slave"' in line and '"worker":1' in line for line in lines)


def test_master_workers_pass_the_real_client_address(fleet) -> None:
    """Rate limits count per client address: a request forwarded by a relay worker counts for its
    real client (not 127.0.0.1), and worker headers without the launch secret count for nothing.
    X-Forwarded-For counts only from TRUSTED_PROXIES (here 127.0.0.3), through a relay worker too."""
    master = fleet.start_master(WORKERS="2", GLOBAL_API_RATE_LIMIT="5", TRUSTED_PROXIES="127.0.0.3").wait()
    relay = workers(master)[1][1]

    def client(address: str) -> httpx.Client:
        return httpx.Client(transport=httpx.HTTPTransport(local_address=address), timeout=10)

    with client("127.0.0.2") as a, client("127.0.0.3") as b:
        assert [a.get(relay + "/api/status").status_code for _ in range(5)] == [200] * 5
        assert a.get(relay + "/api/status").status_code == 429
        assert b.get(relay + "/api/status").status_code == 200  # another client: its own budget
        forged = {"x-oneapi-worker-client": "10.9.8.7:1", "x-oneapi-worker-secret": "guess"}
        assert a.get(master.url + "/api/status", headers=forged).status_code == 429
        assert a.get(relay + "/api/status", headers=forged).status_code == 429
        assert a.get(relay + "/api/status", headers={"X-Forwarded-For": "10.9.8.6"}).status_code == 429  # a is no proxy
        # b is a trusted proxy: each client it names has its own budget, on worker 0 and via worker 1.
        behind = {"X-Forwarded-For": "198.51.100.7"}
        assert [b.get(relay + "/api/status", headers=behind).status_code for _ in range(3)] == [200] * 3
        assert [b.get(master.url + "/api/status", headers=behind).status_code for _ in range(3)] == [200, 200, 429]
        assert b.get(relay + "/api/status", headers={"X-Forwarded-For": "198.51.100.8"}).status_code == 200
