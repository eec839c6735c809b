"""Metrics token: with METRICS_TOKEN set, /metrics answers only a scrape that presents it as a
bearer token, on a master, a slave and a node of several workers; unset, /metrics stays open."""

from __future__ import annotations

from pathlib import Path

import httpx

from shared.settings import build_settings
from slave.node import SlaveNode
from tests.cluster.harness import Node, free_port
from tests.support.app import running_master
from tests.support.services import FreshDatabase

TOKEN = "scrape-me-4f1c"
WRONG = [
    {},
    {"Authorization": "Bearer nope"},
    {"Authorization": TOKEN},
    {"Authorization": f"Basic {TOKEN}"},
    {"Authorization": f"Bearer {TOKEN}x"},
]


def assert_guarded(answers: list[httpx.Response], allowed: httpx.Response) -> None:
    for refused in answers:
        assert refused.status_code == 401, refused.text
        assert refused.json()["error"]["code"] == "metrics_token_required"
        assert "oneapi_" not in refused.text
    assert allowed.status_code == 200 and "oneapi_node_info" in allowed.text


async def test_master_metrics_need_the_token(sqlite_database: FreshDatabase) -> None:
    async with running_master({**sqlite_database.env(), "METRICS_TOKEN": TOKEN}) as (_, client):
        refused = [await client.get("/metrics", headers=h) for h in WRONG]
        assert_guarded(refused, await client.get("/metrics", headers={"Authorization": f"Bearer {TOKEN}"}))
        assert (await client.get("/metrics", headers={"Authorization": f"bearer {TOKEN}"})).status_code == 200


async def test_master_metrics_stay_open_without_a_token(sqlite_database: FreshDatabase) -> None:
    async with running_master(sqlite_database.env()) as (_, client):
        assert (await client.get("/metrics")).status_code == 200


async def test_slave_metrics_need_the_token(tmp_path: Path) -> None:
    env = {
        "NODE_TYPE": "slave",
        "CLUSTER_SECRET": "s",
        "MASTER_ADDR": f"127.0.0.1:{free_port()}",
        "SPOOL_DIR": str(tmp_path / "spool"),
        "METRICS_TOKEN": TOKEN,
    }
    node = SlaveNode(build_settings(env, log_dir_flag=""))  # not started: /metrics needs no master
    transport = httpx.ASGITransport(app=node.app, client=("127.0.0.1", 40003))
    async with httpx.AsyncClient(transport=transport, base_url="http://slave") as client:
        refused = [await client.get("/metrics", headers=h) for h in WRONG]
        assert_guarded(refused, await client.get("/metrics", headers={"Authorization": f"Bearer {TOKEN}"}))


def test_a_node_of_two_workers_needs_the_token(tmp_path: Path) -> None:
    env = {
        "SQLITE_PATH": str(tmp_path / "m.db"),
        "WORKERS": "2",
        "CLUSTER_SECRET": "",
        "GRPC_PORT": str(free_port()),
        "METRICS_TOKEN": TOKEN,
    }
    node = Node("master", env, tmp_path).start()
    try:
        refused = [httpx.get(node.url + "/metrics", headers=h, timeout=10) for h in WRONG]
        allowed = httpx.get(node.url + "/metrics", headers={"Authorization": f"Bearer {TOKEN}"}, timeout=10)
        assert_guarded(refused, allowed)
        assert 'worker="0"' in allowed.text and 'worker="1"' in allowed.text  # every worker answered the fan-in
    finally:
        node.stop()
