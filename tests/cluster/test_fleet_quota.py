"""Fleet-wide quota with Redis, real processes: two slaves share one token whose quota covers exactly
10 requests; 100 parallel requests split across both serve exactly 10 (the Redis counters are the
one balance of the fleet), and the master's totals equal what the fake upstream served."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

import httpx
import orjson
import redis

from shared.billing import tokenizer
from shared.relay.redis_ledger import token_key
from tests.cluster.harness import wait_for
from tests.cluster.ops import add_channel, add_token
from tests.cluster.test_exactly_once import _sql
from tests.support.services import REDIS

MESSAGES = [{"role": "user", "content": "share one balance"}]
COMPLETION = 7


def _set_option(admin: httpx.Client, key: str, value: str) -> None:
    resp = admin.put("/api/option/", json={"key": key, "value": value})
    assert resp.json()["success"], resp.text


def test_two_slaves_never_spend_more_than_the_token_holds(fleet, fake_upstream) -> None:
    master = fleet.start_master()
    a, b = fleet.slave("slave-a"), fleet.slave("slave-b")
    master.wait(), a.wait(), b.wait()
    estimate = tokenizer.count_messages_local(MESSAGES, "flat-model")
    cost = estimate + COMPLETION  # (PreConsumedQuota 0 + prompt + max_tokens) × 1 == settled cost
    fake_upstream.configure(prompt_tokens=estimate, completion_tokens=COMPLETION)
    with fleet.admin() as admin:
        _set_option(admin, "PreConsumedQuota", "0")
        ratios = {o["key"]: o["value"] for o in admin.get("/api/option/").json()["data"]}
        model_ratio = {**orjson.loads(ratios["ModelRatio"]), "flat-model": 1}
        _set_option(admin, "ModelRatio", orjson.dumps(model_ratio).decode())
        channel_id = add_channel(admin, fake_upstream.url, models="flat-model")
        token = add_token(admin, unlimited_quota=False, remain_quota=10 * cost)  # last: seen => the rest too
    headers = {"Authorization": f"Bearer sk-{token['key']}"}
    wait_for(
        lambda: all(
            httpx.post(s.url + "/v1/chat/completions", headers=headers, json={"model": "flat-model", "messages": []}).status_code == 400
            for s in (a, b)
        ),
        5,
        what="token on both slaves",
    )
    counters = redis.Redis(host=REDIS[0], port=REDIS[1], db=fleet.redis_db)
    assert int(counters.get(token_key(token["id"])) or -1) == 10 * cost  # seeded by the master

    body = {"model": "flat-model", "messages": MESSAGES, "max_tokens": COMPLETION}
    clients = [httpx.Client(base_url=s.url, headers=headers, timeout=30) for s in (a, b)]
    try:
        with ThreadPoolExecutor(50) as pool:
            statuses = list(pool.map(lambda i: clients[i % 2].post("/v1/chat/completions", json=body).status_code, range(100)))
    finally:
        for client in clients:
            client.close()
    assert statuses.count(200) == 10, statuses
    assert set(statuses) <= {200, 401, 403}, statuses
    served = [r for r in fake_upstream.requests if r.served_usage]
    assert len(served) == 10
    usage = fake_upstream.served_usage_total()
    assert usage["prompt_tokens"] + usage["completion_tokens"] == 10 * cost

    dsn = fleet.dsn
    wait_for(lambda: _sql(dsn, "select count(*) from logs where type = 2") == ["10"], 30, interval=0.2, what="both slaves' batches applied")
    used, remain = map(int, _sql(dsn, f"select used_quota, remain_quota from tokens where id = {token['id']}")[0].split("|"))
    assert (used, remain) == (10 * cost, 0)
    assert int(_sql(dsn, "select sum(quota) from logs where type = 2")[0]) == 10 * cost
    assert int(_sql(dsn, f"select used_quota from channels where id = {channel_id}")[0]) == 10 * cost
    assert int(counters.get(token_key(token["id"])) or -1) == 0  # the counter agrees with the database
    counters.close()
    for node in (a, b):  # served through the counters, never the local fallback
        text = node.log_path.read_text()
        assert "quota counters unreachable" not in text and "quota counter missing" not in text, node.name
