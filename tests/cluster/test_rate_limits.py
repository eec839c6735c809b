"""Fleet-wide rate limits with Redis, real processes: a token limited to 3 requests per minute is
used through a master and two slaves; 6 rapid requests spread over the three nodes serve 3 and
refuse 3 with 429 and the x-ratelimit-* headers (one window in Redis for the whole fleet). Lifting
the limit on the master reaches the slaves through the cluster's change path."""

from __future__ import annotations

import httpx

from tests.cluster.harness import wait_for
from tests.cluster.ops import add_channel, add_token, chat


def test_rpm_3_across_a_master_and_two_slaves(fleet, fake_upstream) -> None:
    master = fleet.start_master()
    a, b = fleet.slave("slave-a"), fleet.slave("slave-b")
    master.wait(), a.wait(), b.wait()
    with fleet.admin() as admin:
        add_channel(admin, fake_upstream.url)
        token = add_token(admin, rpm_limit=3)  # last: seen => the channel too
    headers = {"Authorization": f"Bearer sk-{token['key']}"}
    # A body that fails validation (before any limit is counted) shows the token has arrived.
    invalid = {"model": "gpt-3.5-turbo", "messages": []}
    wait_for(
        lambda: all(httpx.post(s.url + "/v1/chat/completions", headers=headers, json=invalid).status_code == 400 for s in (a, b)),
        5,
        what="token on both slaves",
    )
    nodes = [master, a, b] * 2
    answers = [chat(node.url, token) for node in nodes]
    statuses = [r.status_code for r in answers]
    assert statuses == [200, 200, 200, 429, 429, 429], [(n.name, s) for n, s in zip(nodes, statuses, strict=True)]
    assert len(fake_upstream.requests) == 3
    assert [r.headers["x-ratelimit-remaining-requests"] for r in answers] == ["2", "1", "0", "0", "0", "0"]
    for resp in answers:
        assert resp.headers["x-ratelimit-limit-requests"] == "3"
    for resp in answers[3:]:
        error = resp.json()["error"]
        assert error["code"] == "rate_limit_exceeded" and "requests per minute (RPM): Limit 3, Used 3" in error["message"]
        assert int(resp.headers["retry-after"]) >= 1

    with fleet.admin() as admin:
        got = admin.get(f"/api/token/{token['id']}").json()["data"]
        resp = admin.put("/api/token/", json={**got, "rpm_limit": 0})
        assert resp.json()["success"], resp.text
    # A refused request counts nothing, so polling is harmless; the first 200 proves the change arrived.
    for slave in (a, b):
        wait_for(lambda url=slave.url: chat(url, token).status_code == 200, 5, what=f"limit lifted on {slave.name}")
        assert "x-ratelimit-limit-requests" not in chat(slave.url, token).headers
