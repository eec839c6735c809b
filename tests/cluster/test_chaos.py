"""Chaos through a real load balancer: exactly-once quota while a slave is SIGKILLed, the master is
restarted and Redis is restarted, with the official `openai` SDK as the client.

haproxy runs deploy/haproxy.cfg on free ports in front of two slaves (and the master for everything
but /v1); Redis is a private `redis-server` on its own port, so killing it touches no other test.
CHAOS_REQUESTS requests (200 in CI, 2,000 under `make chaos`) go through the balancer while:

1. slave A is SIGKILLed with requests of its own in flight. Every request the fake has answered is
   settled first (the fake's gate holds new ones), so the kill cuts only requests the fake has not
   served: their clients see an error, the fake never serves them.
2. the master is restarted (SIGTERM) while load runs and requests are served while it is down;
3. Redis is SIGKILLed while load runs, requests are served without it, and it comes back empty.

Afterwards the master's token, user and channel totals and its log rows equal, to the unit, the cost
of what the fake upstream served (its served usage × the model's ratios), every request the client
saw succeed was served, and billed, exactly once, and no request was served twice. The ledger goes to
results/cluster/chaos-<N>.json.
"""

from __future__ import annotations

import json
import math
import os
import threading
import time
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import openai
import orjson
import pytest

from tests.cluster.conftest import Fleet
from tests.cluster.harness import ADMIN, ROOT, Balancer, GatedFake, RedisServer, relayed_count, tcp_ports, wait_for
from tests.cluster.ops import add_channel, add_token
from tests.cluster.test_exactly_once import _sql
from tests.support.services import FreshDatabase

REQUESTS = int(os.environ.get("CHAOS_REQUESTS", "200"))
WORKERS = 8
MODEL = "chaos-model"
MODEL_RATIO, COMPLETION_RATIO = 0.75, 3  # a fractional cost: the ceiling is part of the check
BUDGET = 10**9
# The fake's reported usage changes with each phase, so the ledger is a sum of different costs.
USAGE = [(17, 11), (23, 5), (9, 40), (31, 7), (4, 2)]


def cost(usage: dict[str, int]) -> int:
    """One API's text quota: ceil((prompt + completion × completionRatio) × modelRatio × groupRatio 1)."""
    return math.ceil((usage["prompt_tokens"] + usage["completion_tokens"] * COMPLETION_RATIO) * MODEL_RATIO)


class Load:
    """WORKERS threads sending numbered chat requests through the SDK, up to the count allowed so far."""

    def __init__(self, client: openai.OpenAI, total: int) -> None:
        self.client, self.total = client, total
        self.cond = threading.Condition()
        self.allowed = self.next = self.done = 0
        self.stopped = False
        self.ok: dict[int, tuple[int, int]] = {}  # request -> usage the client was told
        self.failed: dict[int, str] = {}
        self.threads = [threading.Thread(target=self._work, name=f"chaos-{n}", daemon=True) for n in range(WORKERS)]
        for thread in self.threads:
            thread.start()

    def allow(self, fraction: float) -> int:
        with self.cond:
            self.allowed = max(self.allowed, round(self.total * fraction))
            self.cond.notify_all()
            return self.allowed

    def finished(self, count: int, timeout: float = 120) -> None:
        wait_for(lambda: self.done >= count, timeout, what=f"{count} requests finished")

    def _take(self) -> int | None:
        with self.cond:
            while self.next >= self.allowed and not self.stopped and self.next < self.total:
                self.cond.wait()
            if self.stopped or self.next >= self.total:
                return None
            self.next += 1
            return self.next - 1

    def _work(self) -> None:
        while (i := self._take()) is not None:
            try:
                reply = self.client.chat.completions.create(model=MODEL, messages=[{"role": "user", "content": f"chaos #{i}"}])
                self.ok[i] = (reply.usage.prompt_tokens, reply.usage.completion_tokens)
            except openai.OpenAIError as exc:
                self.failed[i] = type(exc).__name__
            with self.cond:
                self.done += 1

    def stop(self) -> None:
        with self.cond:
            self.stopped = True
            self.cond.notify_all()
        for thread in self.threads:
            thread.join(timeout=60)


@pytest.fixture
def chaos(tmp_path: Path) -> Iterator[dict[str, Any]]:
    """A fleet on a private Redis and a gated fake upstream; everything stopped at the end."""
    db = FreshDatabase("postgres", tmp_path)
    store = RedisServer(tmp_path).start()
    fake = GatedFake()
    fleet = Fleet(tmp_path, db.dsn, None)
    parts: dict[str, Any] = {"fleet": fleet, "redis": store, "fake": fake, "db": db}
    try:
        yield parts
    finally:
        if "load" in parts:
            parts["load"].stop()
        if "lb" in parts:
            parts["lb"].stop()
        fleet.close()
        fake.stop()
        store.stop()
        db.drop()


def _set_ratio(admin: httpx.Client, key: str, value: float) -> None:
    options = {o["key"]: o["value"] for o in admin.get("/api/option/").json()["data"]}
    table = {**orjson.loads(options[key]), MODEL: value}
    resp = admin.put("/api/option/", json={"key": key, "value": orjson.dumps(table).decode()})
    assert resp.json()["success"], resp.text


def _marker(record: Any) -> int:
    return int(record.json()["messages"][0]["content"].removeprefix("chaos #"))


def test_exactly_once_through_haproxy_while_slave_master_and_redis_die(chaos) -> None:
    fleet, store, fake = chaos["fleet"], chaos["redis"], chaos["fake"]
    started = time.monotonic()
    master = fleet.start_master(REDIS_CONN_STRING=store.url)
    a = fleet.slave("slave-a", redis=False, REDIS_CONN_STRING=store.url)
    b = fleet.slave("slave-b", redis=False, REDIS_CONN_STRING=store.url)
    lb = chaos["lb"] = Balancer(fleet.tmp, master.port, (a.port, b.port)).start()
    master.wait(), a.wait(), b.wait()
    lb.wait_up(("slaves", "slave1"), ("slaves", "slave2"), ("master", "master"))

    # Management through the balancer (non-/v1 paths go to the master).
    with httpx.Client(base_url=lb.url, headers={"Authorization": ADMIN}, timeout=10) as admin:
        _set_ratio(admin, "ModelRatio", MODEL_RATIO)
        _set_ratio(admin, "CompletionRatio", COMPLETION_RATIO)
        channel_id = add_channel(admin, fake.url, models=MODEL)
        token = add_token(admin, unlimited_quota=False, remain_quota=BUDGET)  # last: seen => the rest too
    key = f"sk-{token['key']}"
    wait_for(
        lambda: all(
            httpx.post(
                s.url + "/v1/chat/completions", headers={"Authorization": f"Bearer {key}"}, json={"model": MODEL, "messages": []}
            ).status_code
            == 400
            for s in (a, b)
        ),
        10,
        what="token on both slaves",
    )

    client = openai.OpenAI(base_url=lb.url + "/v1", api_key=key, max_retries=0, timeout=30)
    load = chaos["load"] = Load(client, REQUESTS)
    events: dict[str, Any] = {}

    # 1. SIGKILL slave A with requests of its own in flight, none of them served by the fake yet.
    fake.state.configure(prompt_tokens=USAGE[0][0], completion_tokens=USAGE[0][1])
    load.allow(0.20)
    load.finished(round(REQUESTS * 0.10))
    fake.gate.hold()
    served = lambda: sum(1 for r in fake.state.requests if r.served_usage)  # noqa: E731
    assert a.proc is not None
    a_pid = a.proc.pid
    wait_for(
        lambda: (
            bool(fake.gate.parked_ports() & tcp_ports(a_pid, fake.port))
            and fake.gate.settled_inside()
            and relayed_count(a) + relayed_count(b) == served()
        ),
        30,
        what="slave A holding a parked request, everything served settled",
    )
    events["cut_at_kill"] = len(fake.gate.parked_ports() & tcp_ports(a_pid, fake.port))
    events["spool_bytes_at_kill"] = sum(p.stat().st_size for p in (fleet.tmp / "spool" / "slave-a").iterdir())
    a.kill()
    b_pid = b.proc.pid  # type: ignore[union-attr]
    # Release only once every parked request left is slave B's: A's were dropped unserved.
    wait_for(lambda: fake.gate.parked_ports() <= tcp_ports(b_pid, fake.port), 10, what="slave A's parked requests dropped")
    fake.gate.release()
    a.launch()
    fake.state.configure(prompt_tokens=USAGE[1][0], completion_tokens=USAGE[1][1])
    load.finished(load.allow(0.35))  # served by B alone while A restarts
    a.wait()
    lb.wait_up(("slaves", "slave1"))

    # 2. Restart the master under load; requests are served while it is down.
    load.allow(0.50)
    load.finished(round(REQUESTS * 0.40))
    master.stop()
    fake.state.configure(prompt_tokens=USAGE[2][0], completion_tokens=USAGE[2][1])
    load.finished(load.allow(0.60))
    master.launch().wait()
    lb.wait_up(("master", "master"))

    # 3. SIGKILL Redis under load; requests are served without it; it comes back empty.
    load.allow(0.75)
    load.finished(round(REQUESTS * 0.65))
    store.kill()
    fake.state.configure(prompt_tokens=USAGE[3][0], completion_tokens=USAGE[3][1])
    load.finished(load.allow(0.85))
    store.start()

    fake.state.configure(prompt_tokens=USAGE[4][0], completion_tokens=USAGE[4][1])
    load.finished(load.allow(1.0))
    load.stop()

    # What the fake served: each request at most once, each success exactly once, as the client saw it.
    records = [r for r in fake.state.requests if r.served_usage]
    markers = Counter(_marker(r) for r in records)
    assert not [m for m, n in markers.items() if n > 1], "a request was served twice"
    usage_of = {_marker(r): (r.served_usage["prompt_tokens"], r.served_usage["completion_tokens"]) for r in records}
    assert set(load.ok) <= set(usage_of), "a success the fake never served"
    assert all(usage_of[i] == seen for i, seen in load.ok.items())
    assert len(load.ok) + len(load.failed) == REQUESTS
    assert len(load.failed) >= events["cut_at_kill"] >= 1
    expected = sum(cost(r.served_usage) for r in records)
    prompt = sum(r.served_usage["prompt_tokens"] for r in records)
    completion = sum(r.served_usage["completion_tokens"] for r in records)

    # The master's ledger, once every spooled batch has landed.
    dsn = fleet.dsn
    rows_query = "select count(*), coalesce(sum(quota),0), coalesce(sum(prompt_tokens),0), coalesce(sum(completion_tokens),0) from logs where type = 2"
    wait_for(
        lambda: int(_sql(dsn, rows_query)[0].split("|")[0]) >= len(records),
        60,
        interval=0.2,
        what="every served request logged on the master",
    )
    wait_for(lambda: not any(p.stat().st_size for p in (fleet.tmp / "spool").rglob("*.batch")), 30, interval=0.2, what="spools drained")
    rows, quota, log_prompt, log_completion = map(int, _sql(dsn, rows_query)[0].split("|"))
    token_used, token_remain = map(int, _sql(dsn, f"select used_quota, remain_quota from tokens where id = {token['id']}")[0].split("|"))
    user_used, user_requests = map(int, _sql(dsn, "select used_quota, request_count from users where username = 'root'")[0].split("|"))
    channel_used = int(_sql(dsn, f"select used_quota from channels where id = {channel_id}")[0])
    ledger = {
        "requests": REQUESTS,
        "client_ok": len(load.ok),
        "client_failed": len(load.failed),
        "client_failed_unserved": len(set(load.failed) - set(usage_of)),
        "client_failed_served": len(set(load.failed) & set(usage_of)),
        "served": len(records),
        "expected_quota": expected,
        "log_rows": rows,
        "log_quota": quota,
        "token_used": token_used,
        "token_remain": token_remain,
        "user_used": user_used,
        "user_requests": user_requests,
        "channel_used": channel_used,
        "prompt_tokens": prompt,
        "completion_tokens": completion,
        "gate_dropped": fake.gate.dropped,
        **events,
        "seconds": round(time.monotonic() - started, 1),
    }
    out = ROOT / "results" / "cluster"
    out.mkdir(parents=True, exist_ok=True)
    (out / f"chaos-{REQUESTS}.json").write_text(json.dumps(ledger, indent=2) + "\n")

    assert (rows, log_prompt, log_completion) == (len(records), prompt, completion), ledger
    assert quota == user_used == channel_used == expected, ledger
    assert user_requests == len(records), ledger
    # Requests cut by the kill were never served: nothing of theirs may stay on the token.
    assert (token_used, token_remain) == (expected, BUDGET - expected), ledger
