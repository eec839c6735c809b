"""A slave holds every token (issue 11, item 3: full replication of compact rows), so a key it does
not know is refused from its own tables: a spray of random keys costs the master nothing, and is
answered the same while the master is down, when any lookup would have failed."""

from __future__ import annotations

import secrets

import httpx

from tests.cluster.harness import wait_for
from tests.cluster.ops import add_channel, add_token, chat

SPRAY = 300


def test_a_spray_of_unknown_keys_is_refused_by_the_slave_alone(fleet_no_redis, fake_upstream) -> None:
    fleet = fleet_no_redis
    master = fleet.start_master()
    master.wait()
    slave = fleet.slave("slave-a", redis=False, SYNC_FREQUENCY="3600").wait()
    with fleet.admin() as admin:
        add_channel(admin, fake_upstream.url)
        token = add_token(admin)
    wait_for(lambda: chat(slave.url, token).status_code == 200, 10, what="the token on the slave")
    master.stop()

    with httpx.Client(base_url=slave.url, timeout=10) as client:
        for _ in range(SPRAY):
            resp = client.post(
                "/v1/chat/completions",
                headers={"Authorization": f"Bearer sk-{secrets.token_hex(24)}"},
                json={"model": "gpt-3.5-turbo", "messages": [{"role": "user", "content": "hi"}]},
            )
            assert resp.status_code == 401
            assert resp.json()["error"]["message"].startswith("无效的令牌")
    assert chat(slave.url, token).status_code == 200  # the real token still works, master down
