"""Incremental replication (issue 11): after its first snapshot a slave receives change sets.

A change made while a slave has lost the master reaches it on reconnect from the master's change
log, not as a full snapshot; a slave that fell further behind than the log reaches gets a full
snapshot; a restarted master (a new epoch) resyncs every slave. Without Redis, so that the gRPC link
(cut and restored by a proxy while the slave process lives on) is the only way in.
"""

from __future__ import annotations

import httpx

from tests.cluster.harness import wait_for
from tests.cluster.ops import add_channel, add_token, chat, set_token_status
from tests.cluster.tcp_cut import CutProxy


def _value(node, name: str) -> float:  # type: ignore[no-untyped-def]
    text = httpx.get(node.url + "/metrics", timeout=5).text
    return sum(float(line.rsplit(" ", 1)[1]) for line in text.splitlines() if line.startswith(name + " ") or line.startswith(name + "{"))


def _counter(node, name: str) -> int:  # type: ignore[no-untyped-def]
    return int(_value(node, name))


def _snapshots(node) -> int:  # type: ignore[no-untyped-def]
    return _counter(node, "oneapi_config_snapshots_installed_total")


def _pushing(node) -> bool:  # type: ignore[no-untyped-def]
    return _counter(node, "oneapi_config_push_connected") == 1


def test_a_change_made_while_a_slave_is_cut_off_arrives_from_the_log(fleet_no_redis, fake_upstream) -> None:
    fleet = fleet_no_redis
    master = fleet.start_master()
    master.wait()
    proxy = CutProxy(fleet.grpc_port).start()
    try:
        slave = fleet.slave("slave-a", redis=False, MASTER_ADDR=proxy.addr, SYNC_FREQUENCY="3600").wait()
        with fleet.admin() as admin:
            add_channel(admin, fake_upstream.url)
            token = add_token(admin)
            wait_for(lambda: chat(slave.url, token).status_code == 200, 10, what="the token on the slave")
            assert _snapshots(slave) == 1
            applied = _counter(slave, "oneapi_config_changes_applied_total")
            assert applied >= 1  # the channel and the token came as change sets

            proxy.cut()
            wait_for(lambda: not _pushing(slave), 15, what="the slave losing its Watch stream")
            set_token_status(admin, token, 2)
            assert chat(slave.url, token).status_code == 200  # cut off: it cannot know yet
            proxy.restore()

            wait_for(lambda: chat(slave.url, token).status_code == 401, 15, what="the disabled token refused after reconnect")
        assert _snapshots(slave) == 1  # caught up from the log
        assert _counter(slave, "oneapi_config_changes_applied_total") > applied
        assert _value(slave, "oneapi_config_apply_cpu_seconds_total") > 0  # what make bench-scale reads
        assert _counter(slave, "oneapi_config_revision") == _counter(master, "oneapi_config_revision")
    finally:
        proxy.stop()


def test_a_slave_behind_the_retained_log_gets_a_full_snapshot(fleet_no_redis, fake_upstream) -> None:
    fleet = fleet_no_redis
    master = fleet.start_master(CHANGE_LOG_RETENTION="100")
    master.wait()
    proxy = CutProxy(fleet.grpc_port).start()
    try:
        slave = fleet.slave("slave-a", redis=False, MASTER_ADDR=proxy.addr, SYNC_FREQUENCY="3600").wait()
        with fleet.admin() as admin:
            add_channel(admin, fake_upstream.url)
            token = add_token(admin)
            wait_for(lambda: chat(slave.url, token).status_code == 200, 10, what="the token on the slave")
            proxy.cut()
            wait_for(lambda: not _pushing(slave), 15, what="the slave losing its Watch stream")
            for round_ in range(120):  # more change sets than the master keeps
                set_token_status(admin, token, 2 if round_ % 2 == 0 else 1)
            set_token_status(admin, token, 2)
            proxy.restore()
            wait_for(lambda: chat(slave.url, token).status_code == 401, 15, what="the disabled token refused after reconnect")
        assert _snapshots(slave) == 2
    finally:
        proxy.stop()


def test_a_restarted_master_resyncs_every_slave(fleet_no_redis, fake_upstream) -> None:
    fleet = fleet_no_redis
    master = fleet.start_master()
    master.wait()
    a, b = fleet.start_slaves("slave-a", "slave-b", redis=False, SYNC_FREQUENCY="3600")
    with fleet.admin() as admin:
        add_channel(admin, fake_upstream.url)
        token = add_token(admin)
    for slave in (a, b):
        wait_for(lambda s=slave: chat(s.url, token).status_code == 200, 10, what=f"the token on {slave.name}")
        assert _snapshots(slave) == 1

    master.stop()
    master = fleet.start_master()
    master.wait()
    for slave in (a, b):
        wait_for(lambda s=slave: _snapshots(s) == 2, 20, what=f"{slave.name} taking the new master's snapshot")
    with fleet.admin() as admin:
        set_token_status(admin, token, 2)
    for slave in (a, b):
        wait_for(lambda s=slave: chat(s.url, token).status_code == 401, 10, what=f"a change after the restart on {slave.name}")
        assert _snapshots(slave) == 2  # the new epoch's changes came as change sets
