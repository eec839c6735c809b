"""Exactly-once quota and availability, with real processes.

Load runs on two slaves; slave A is killed with SIGKILL while it holds settled but unshipped deltas
(its spool must bring them back), the master is restarted mid-load (slaves keep relaying and keep
their batches), and a slave started while the master is down serves from the Redis snapshot. At the
end the master's token, user and channel totals and its log rows equal, to the unit, what the fake
upstream served.

Requests in flight inside a process at the instant it is SIGKILLed are the one case no gateway can
bill (the process that knew the cost is gone); the kill here lands between requests, which is what
the spool guarantees: nothing settled is lost.
"""

from __future__ import annotations

import os
import subprocess
import threading
from concurrent.futures import ThreadPoolExecutor

import httpx

from tests.cluster.harness import wait_for
from tests.cluster.ops import add_channel, add_token

REQUESTS = int(os.environ.get("CLUSTER_LOAD_REQUESTS", "200"))


def _sql(dsn: str, query: str) -> list[str]:
    out = subprocess.run(["psql", dsn, "-tAc", query], check=True, capture_output=True, text=True).stdout
    return [line for line in out.splitlines() if line]


def _load(urls: list[str], token: dict, count: int, workers: int = 8) -> list[int]:
    headers = {"Authorization": f"Bearer sk-{token['key']}"}
    body = {"model": "gpt-3.5-turbo", "messages": [{"role": "user", "content": "count me once"}]}
    clients = {url: httpx.Client(base_url=url, headers=headers, timeout=30) for url in urls}

    def one(i: int) -> int:
        return clients[urls[i % len(urls)]].post("/v1/chat/completions", json=body).status_code

    try:
        with ThreadPoolExecutor(workers) as pool:
            return list(pool.map(one, range(count)))
    finally:
        for client in clients.values():
            client.close()


def test_quota_is_counted_exactly_once_across_kills_and_restarts(fleet, fake_upstream) -> None:
    master = fleet.start_master()
    a = fleet.slave("slave-a", BATCH_UPDATE_INTERVAL="30")  # holds its deltas: the kill must not lose them
    b = fleet.slave("slave-b")
    master.wait(), a.wait(), b.wait()
    with fleet.admin() as admin:
        channel_id = add_channel(admin, fake_upstream.url)
        token = add_token(admin, unlimited_quota=False, remain_quota=10**9)
    wait_for(
        lambda: all(
            httpx.post(
                s.url + "/v1/chat/completions",
                headers={"Authorization": f"Bearer sk-{token['key']}"},
                json={"model": "gpt-3.5-turbo", "messages": []},
            ).status_code
            != 401
            for s in (a, b)
        ),
        5,
        what="token on slaves",
    )

    phase = REQUESTS // 4
    assert set(_load([a.url, b.url], token, phase)) == {200}
    spooled = list((fleet.tmp / "spool" / "slave-a").glob("*.open"))
    assert spooled and spooled[0].stat().st_size > 0, "slave A should hold unshipped deltas"
    a.kill()  # SIGKILL: nothing flushed
    # Same node id and spool: it resends what the spool holds. It comes back shipping every second,
    # so the final wait below does not race a 30 s batch timer.
    a.env["BATCH_UPDATE_INTERVAL"] = "1"
    a.start()

    # Master restart mid-load: slaves keep relaying the tokens they know.
    results: list[int] = []
    load = threading.Thread(target=lambda: results.extend(_load([a.url, b.url], token, phase * 2)))
    load.start()
    master.stop()
    assert set(_load([a.url, b.url], token, 20)) == {200}, "slaves must relay while the master is down"
    c = fleet.slave("slave-c")  # starts while the master is down: Redis snapshot
    c.wait()
    wait_for(
        lambda: '"source":"redis"' in c.log_path.read_text(), 5, what="slave C seeded from the Redis snapshot"
    )  # lines are written every 0.2 s
    assert set(_load([c.url], token, 10)) == {200}
    master.launch().wait()
    load.join()
    assert set(results) == {200}
    assert set(_load([a.url, b.url, c.url], token, REQUESTS - 3 * phase)) == {200}

    served = [r for r in fake_upstream.requests if r.served_usage]
    usage = fake_upstream.served_usage_total()
    dsn = fleet.dsn

    def settled() -> bool:
        rows = _sql(
            dsn,
            "select count(*), coalesce(sum(quota),0), coalesce(sum(prompt_tokens),0), coalesce(sum(completion_tokens),0) from logs where type = 2",
        )
        return rows[0] == f"{len(served)}|{rows[0].split('|')[1]}|{usage['prompt_tokens']}|{usage['completion_tokens']}"

    wait_for(settled, 30, interval=0.3, what="every served request billed on the master")
    count, quota = map(int, _sql(dsn, "select count(*), sum(quota) from logs where type = 2")[0].split("|"))
    per_request = quota // count
    assert quota == per_request * count and count == len(served) == REQUESTS + 30
    token_used, token_remain = map(int, _sql(dsn, f"select used_quota, remain_quota from tokens where id = {token['id']}")[0].split("|"))
    assert token_remain == 10**9 - quota
    user_used, requests = map(int, _sql(dsn, "select used_quota, request_count from users where username = 'root'")[0].split("|"))
    channel_used = int(_sql(dsn, f"select used_quota from channels where id = {channel_id}")[0])
    assert token_used == user_used == channel_used == quota
    assert requests == count
    # And it stays that way: no late duplicate arrives.
    wait_for(lambda: not any(p.stat().st_size for p in (fleet.tmp / "spool").rglob("*.batch")), 10, what="spools drained")
    assert int(_sql(dsn, "select sum(quota) from logs where type = 2")[0]) == quota
    print(f"ledger: {count} requests served by the fake = {count} log rows; quota {quota} on token, user and channel")
