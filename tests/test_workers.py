"""`--workers` in one process: the setting, what each worker is told, the gate's trust rule and the
metrics merge. The processes themselves are proved in tests/cluster/test_workers.py."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from shared.settings import SettingsError, build_settings
from shared.workers.fanin import merge_metrics
from shared.workers.gate import WorkerGate
from shared.workers.launch import Launch, stranded_spools
from shared.workers.slot import WorkerSlot, slot_from_env

ONE_API = str(Path(sys.executable).with_name("one-api"))


def test_workers_flag_and_env_follow_port_rules() -> None:
    assert build_settings({}).workers == 1
    assert build_settings({}, workers_flag=4).workers == 4
    assert build_settings({"WORKERS": "2"}, workers_flag=4).workers == 2  # the environment wins, as PORT does
    for bad in ("two", "0", "-1"):
        with pytest.raises(SettingsError, match="WORKERS"):
            build_settings({"WORKERS": bad})
    out = subprocess.run([ONE_API, "--help"], capture_output=True, text=True, timeout=30)
    assert "--workers <n>" in out.stdout and "env WORKERS wins" in out.stdout


def test_a_worker_reads_its_slot_from_the_environment() -> None:
    slot = WorkerSlot(index=1, fds=(5, 7), peers=(4001, 4002), secret="s", forward=True)
    assert slot_from_env(slot.to_env()) == slot
    assert slot_from_env({}) is None
    assert build_settings(slot.to_env()).worker == slot


def _launch(tmp_path: Path, **env: str) -> Launch:
    settings = build_settings({"NODE_ID": "n", "SPOOL_DIR": str(tmp_path / "spool"), "WORKERS": "3", "PORT": "0", **env})
    return Launch.bind(settings)


def test_host_picks_the_public_address(tmp_path: Path) -> None:
    """HOST: every IPv4 interface by default (as before), else the address given (IPv6 too); the
    workers' private ports stay on loopback."""
    for env, address in (({}, "0.0.0.0"), ({"HOST": "127.0.0.2"}, "127.0.0.2"), ({"HOST": "[::1]"}, "::1")):
        launch = _launch(tmp_path, **env)
        try:
            assert launch.public.getsockname()[0] == address, env
            assert {sock.getsockname()[0] for sock in launch.private} == {"127.0.0.1"}
        finally:
            launch.close()


def test_a_masters_relay_workers_are_slaves_of_worker_0(tmp_path: Path) -> None:
    launch = _launch(tmp_path, SQL_DSN="postgres://u:p@h/db", BATCH_UPDATE_INTERVAL="9")
    try:
        assert launch.secret_generated and launch.cluster_secret
        base = {"SQL_DSN": "postgres://u:p@h/db"}
        master, relay = launch.env(0, base), launch.env(2, base)
        assert master["SQL_DSN"] == base["SQL_DSN"] and "NODE_TYPE" not in master
        assert slot_from_env(master).cluster_port == launch.cluster_port and not slot_from_env(master).public_cluster
        assert relay["NODE_TYPE"] == "slave" and relay["SQL_DSN"] == "" and relay["MASTER_ADDR"] == f"127.0.0.1:{launch.cluster_port}"
        assert (relay["NODE_ID"], relay["SPOOL_DIR"]) == ("n-w2", str(tmp_path / "spool" / "w2"))
        assert relay["BATCH_UPDATE_INTERVAL"] == "1"  # the master writes at once without BATCH_UPDATE_ENABLED
        assert relay["CLUSTER_SECRET"] == master["CLUSTER_SECRET"] == launch.cluster_secret
        assert slot_from_env(relay).forward and slot_from_env(relay).peers == slot_from_env(master).peers
    finally:
        launch.close()


def test_slave_workers_keep_the_operators_secret_and_get_stable_ids(tmp_path: Path) -> None:
    launch = _launch(tmp_path, NODE_TYPE="slave", CLUSTER_SECRET="op")
    try:
        envs = [launch.env(i, {}) for i in range(3)]
        assert [e["NODE_ID"] for e in envs] == ["n-w0", "n-w1", "n-w2"]
        assert all(e["CLUSTER_SECRET"] == "op" and "NODE_TYPE" not in e for e in envs)
        assert not any(slot_from_env(e).forward for e in envs)
    finally:
        launch.close()


def test_spools_no_worker_will_ship_are_reported(tmp_path: Path) -> None:
    spool = tmp_path / "spool"
    for folder in ("n", "w1", "w5", "w7"):
        (spool / folder / "x").mkdir(parents=True)
    (spool / "n" / "000000000001.batch").write_text("[]\n")
    (spool / "w1" / "x" / "000000000001.batch").write_text("[]\n")
    (spool / "w5" / "x" / "000000000001.open").write_text("[]\n")
    (spool / "w7" / "x" / "000000000002.open").write_text("")  # empty: nothing to ship
    settings = build_settings({"NODE_ID": "n", "SPOOL_DIR": str(spool), "WORKERS": "3"})
    assert sorted(p.name for p in stranded_spools(settings)) == ["n", "w5"]


def test_metrics_of_workers_merge_into_one_exposition() -> None:
    one = '# HELP a_total A.\n# TYPE a_total counter\na_total{route="api"} 1.0\n# HELP b B.\n# TYPE b gauge\nb 2.0\n'
    two = '# HELP a_total A.\n# TYPE a_total counter\na_total{route="api"} 3.0\n# HELP c C.\n# TYPE c gauge\nc{} 4.0\n'
    assert merge_metrics([(0, one), (1, two)]).splitlines() == [
        "# HELP a_total A.",
        "# TYPE a_total counter",
        'a_total{worker="0",route="api"} 1.0',
        'a_total{worker="1",route="api"} 3.0',
        "# HELP b B.",
        "# TYPE b gauge",
        'b{worker="0"} 2.0',
        "# HELP c C.",
        "# TYPE c gauge",
        'c{worker="1"} 4.0',
    ]


async def _through_gate(index: int, headers: list[tuple[bytes, bytes]], path: str = "/api/status") -> dict[str, Any] | None:
    seen: dict[str, Any] = {}

    async def app(scope: Any, receive: Any, send: Any) -> None:
        seen.update(scope)

    gate = WorkerGate(app, WorkerSlot(index=index, fds=(), peers=(1, 2), secret="launch-secret"))
    scope = {"type": "http", "path": path, "method": "GET", "headers": headers, "client": ("127.0.0.1", 5000)}
    await gate(scope, None, None)
    await gate.client.aclose()
    return seen or None


async def test_the_gate_trusts_only_this_launchs_workers() -> None:
    client = (b"x-oneapi-worker-client", b"203.0.113.9:4242")
    signed = await _through_gate(0, [(b"x-oneapi-worker-secret", b"launch-secret"), client, (b"accept", b"*/*")])
    assert signed is not None and signed["client"] == ("203.0.113.9", 4242) and signed["headers"] == [(b"accept", b"*/*")]
    forged = await _through_gate(0, [(b"x-oneapi-worker-secret", b"guess"), client, (b"accept", b"*/*")])
    assert forged is not None and forged["client"] == ("127.0.0.1", 5000) and forged["headers"] == [(b"accept", b"*/*")]
    unsigned = await _through_gate(0, [client])
    assert unsigned is not None and unsigned["client"] == ("127.0.0.1", 5000) and unsigned["headers"] == []
