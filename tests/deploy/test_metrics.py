"""/metrics on every node: bounded labels, per-app registries, and counters that move when a master
or a slave relays requests against the fake upstream."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import httpx
from prometheus_client.parser import text_string_to_metric_families

from shared.metrics import OTHER, LabelCap, Metrics, route_class, status_class
from shared.settings import build_settings
from slave.node import SlaveNode
from tests.fake_upstream.server import FakeUpstream
from tests.support.ports import free_port
from tests.support.relay_kit import relay_world


def samples(text: str) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    """Every sample of a scrape, keyed by (name, sorted labels)."""
    out = {}
    for family in text_string_to_metric_families(text):
        for s in family.samples:
            out[(s.name, tuple(sorted(s.labels.items())))] = s.value
    return out


def total(found: dict[Any, float], name: str, **labels: str) -> float:
    return sum(v for (n, lab), v in found.items() if n == name and all((k, w) in lab for k, w in labels.items()))


def test_label_cap_keeps_the_first_values_then_says_other() -> None:
    cap = LabelCap(2)
    assert [cap("a"), cap("b"), cap("c"), cap("a"), cap("x" * 500)] == ["a", "b", OTHER, "a", OTHER]
    assert LabelCap(3)("m" * 500) == "m" * 64


def test_route_and_status_classes_are_bounded() -> None:
    assert [
        route_class(p)
        for p in (
            "/v1/chat/completions",
            "/v1/models",
            "/dashboard/billing/usage",
            "/v1/dashboard/billing/subscription",
            "/api/user/self",
            "/healthz",
            "/metrics",
            "/login",
        )
    ] == [
        "relay",
        "models",
        "billing",
        "billing",
        "api",
        "health",
        "metrics",
        "page",
    ]
    assert [status_class(s) for s in (200, 301, 404, 503, 0)] == ["2xx", "3xx", "4xx", "5xx", "none"]


def test_two_apps_in_one_process_keep_separate_registries() -> None:
    a, b = Metrics("master"), Metrics("slave")
    a.settled("gpt-4o", 1, 10, 5, 100)
    text_a, text_b = a.render().decode(), b.render().decode()
    assert total(samples(text_a), "oneapi_relay_tokens_total") == 15
    assert total(samples(text_b), "oneapi_relay_tokens_total") == 0


def test_model_and_channel_labels_are_capped() -> None:
    m = Metrics("master", max_models=3, max_channels=2)
    for i in range(50):
        m.settled(f"model-{i}", i, 1, 1, 1)
    found = samples(m.render().decode())
    models = {dict(lab)["model"] for (n, lab) in found if n == "oneapi_relay_quota_total"}
    channels = {dict(lab)["channel"] for (n, lab) in found if n == "oneapi_relay_quota_total"}
    assert models == {"model-0", "model-1", "model-2", OTHER}
    assert channels == {"0", "1", OTHER}
    assert total(found, "oneapi_relay_quota_total") == 50


async def _relay_some(world: Any) -> None:
    await world.channel()
    token = await world.token()
    for _ in range(2):
        resp = await world.chat(token)
        assert resp.status_code == 200, resp.text
    resp = await world.chat(token, stream=True)
    assert resp.status_code == 200, resp.text
    resp = await world.chat(token, model="no-such-model")
    assert resp.status_code == 503, resp.text


async def test_master_metrics_move_after_relayed_requests(sqlite_database: Any, fake_upstream: FakeUpstream) -> None:
    async with relay_world(sqlite_database, fake_upstream) as world:
        before = samples((await world.root.get("/metrics")).text)
        await _relay_some(world)
        resp = await world.root.get("/metrics")
        assert resp.status_code == 200
        assert resp.headers["content-type"].startswith("text/plain")
        after = samples(resp.text)
    assert total(before, "oneapi_relay_requests_total") == 0
    assert total(after, "oneapi_http_requests_total", route="relay", status="2xx") == 3
    assert total(after, "oneapi_http_requests_total", route="relay", status="5xx") == 1
    assert total(after, "oneapi_http_requests_total", route="api", status="2xx") >= 2
    assert total(after, "oneapi_http_request_duration_seconds_count", route="relay") == 4
    assert total(after, "oneapi_relay_time_to_first_byte_seconds_count", route="relay") == 4
    assert total(after, "oneapi_relay_requests_total", model="gpt-3.5-turbo") == 3
    assert total(after, "oneapi_relay_tokens_total", kind="prompt") > 0
    assert total(after, "oneapi_relay_tokens_total", kind="completion") > 0
    assert total(after, "oneapi_relay_quota_total") > 0
    assert total(after, "oneapi_relay_attempts_total", result="ok") == 3
    assert total(after, "oneapi_relay_streams_in_flight") == 0
    assert total(after, "oneapi_channels", status="enabled") == 1
    assert total(after, "oneapi_config_version") >= 1
    assert total(after, "oneapi_node_info", node_type="master") == 1
    assert not any(n == "oneapi_spool_batches" for n, _ in after)


async def test_slave_metrics_move_after_relayed_requests(sqlite_database: Any, fake_upstream: FakeUpstream, tmp_path: Path) -> None:
    grpc_port = free_port()
    secret = "metrics-test-secret"
    env = {"CLUSTER_SECRET": secret, "GRPC_PORT": str(grpc_port)}
    async with relay_world(sqlite_database, fake_upstream, env) as world:
        await world.channel()
        token = await world.token()
        slave_env = {
            "NODE_TYPE": "slave",
            "CLUSTER_SECRET": secret,
            "MASTER_ADDR": f"127.0.0.1:{grpc_port}",
            "SPOOL_DIR": str(tmp_path / "spool"),
            "NODE_ID": "metrics-slave",
            "BATCH_UPDATE_INTERVAL": "3600",
        }
        node = SlaveNode(build_settings(slave_env, log_dir_flag=""))
        await node.start()
        try:
            transport = httpx.ASGITransport(app=node.app, client=("127.0.0.1", 40002))
            async with httpx.AsyncClient(transport=transport, base_url="http://slave") as client:
                for stream in (False, True):
                    resp = await client.post(
                        "/v1/chat/completions",
                        headers={"Authorization": f"Bearer sk-{token['key']}"},
                        json={"model": "gpt-3.5-turbo", "messages": [{"role": "user", "content": "hi"}], "stream": stream},
                    )
                    assert resp.status_code == 200, resp.text
                await node.shipper.seal()  # one sealed batch, not shipped yet (the send loop is woken)
                found = samples((await client.get("/metrics")).text)
        finally:
            await node.stop()
    assert total(found, "oneapi_node_info", node_type="slave") == 1
    assert total(found, "oneapi_http_requests_total", route="relay", status="2xx") == 2
    assert total(found, "oneapi_relay_tokens_total", model="gpt-3.5-turbo") > 0
    assert total(found, "oneapi_relay_quota_total") > 0
    assert total(found, "oneapi_config_version") >= 1
    assert total(found, "oneapi_config_sync_lag_seconds") >= 0
    assert ("oneapi_config_push_connected", ()) in found
    assert ("oneapi_spool_batches", ()) in found
    assert total(found, "oneapi_channels", status="enabled") == 1
