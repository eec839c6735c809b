"""Config propagation and the slave's surface.

A channel and a token created on the master work on every slave, and a disabled token stops working
on every slave, within 1 s with Redis and within SYNC_FREQUENCY without. The gRPC port refuses a
wrong or missing secret; a slave with the wrong secret never becomes ready. Pages on a slave go to
FRONTEND_BASE_URL (or get a JSON 404 naming the master); /v1 and /api/status work there.
"""

from __future__ import annotations

import json
import statistics

import grpc
import httpx
import pytest

from shared.cluster.crypto import AUTH_HEADER, ClusterKeys
from shared.cluster.pb import cluster_pb2 as pb
from shared.cluster.pb import cluster_pb2_grpc as rpc
from slave.link import GET_SNAPSHOT, REPORT_BATCH
from tests.cluster.harness import ROOT, SECRET, wait_for
from tests.cluster.ops import add_channel, add_token, chat, set_token_status

FRONTEND = "https://console.example.com"


def _round(fleet, fake, slaves, bound: float) -> list[float]:
    """Create a channel and token, see them work everywhere, disable the token, see it refused."""
    measured = []
    with fleet.admin() as admin:
        add_channel(admin, fake.url)
        token = add_token(admin)
        for slave in slaves:
            measured.append(
                wait_for(lambda slave=slave: chat(slave.url, token).status_code == 200, bound, what=f"new token on {slave.name}")
            )
        set_token_status(admin, token, 2)
        for slave in slaves:
            measured.append(
                wait_for(lambda slave=slave: chat(slave.url, token).status_code == 401, bound, what=f"disabled token on {slave.name}")
            )
    return measured


def _record(mode: str, measured: list[float]) -> None:
    """Keep the measured propagation times in results/cluster/propagation.json (one entry per mode)."""
    path = ROOT / "results" / "cluster" / "propagation.json"
    path.parent.mkdir(parents=True, exist_ok=True)
    data = json.loads(path.read_text()) if path.exists() else {}
    data[mode] = {
        "median_s": round(statistics.median(measured), 3),
        "max_s": round(max(measured), 3),
        "samples": [round(m, 3) for m in measured],
    }
    path.write_text(json.dumps(data, indent=2) + "\n")


def test_with_redis_changes_reach_every_slave_within_1s_and_pages_redirect(fleet, fake_upstream) -> None:
    master = fleet.start_master()
    a = fleet.slave("slave-a")
    b = fleet.slave("slave-b", FRONTEND_BASE_URL=FRONTEND + "/")
    master.wait()
    a.wait(), b.wait()
    _record("redis", _round(fleet, fake_upstream, [a, b], 1.0))

    page = httpx.get(b.url + "/login?next=/panel")
    assert page.status_code == 301 and page.headers["location"] == FRONTEND + "/login?next=/panel"
    post = httpx.post(b.url + "/api/user/login", json={"username": "root", "password": "123456"})
    assert post.status_code == 308 and post.headers["location"] == FRONTEND + "/api/user/login"
    status = httpx.get(b.url + "/api/status").json()
    assert status["success"] and status["data"]["quota_per_unit"] == 500000
    unknown = httpx.get(a.url + "/panel")
    assert unknown.status_code == 404 and "master" in unknown.json()["message"]
    assert httpx.get(a.url + "/v1/nothing").status_code == 404  # relay paths are never redirected
    assert httpx.get(b.url + "/v1/models", headers={"Authorization": "Bearer sk-wrong"}).status_code == 401
    for node in (master, a, b):
        assert httpx.get(node.url + "/healthz").status_code == 200
        assert httpx.get(node.url + "/readyz").status_code == 200


def test_without_redis_changes_reach_every_slave_within_sync_frequency(fleet_no_redis, fake_upstream) -> None:
    fleet = fleet_no_redis
    master = fleet.start_master()
    slaves = [fleet.slave(name, SYNC_FREQUENCY="3") for name in ("slave-a", "slave-b")]
    bad = fleet.slave("slave-bad", CLUSTER_SECRET="not-the-secret")
    master.wait()
    for slave in slaves:
        slave.wait()
    _record("no_redis_sync_3s", _round(fleet, fake_upstream, slaves, 3.0))
    # The slave with the wrong secret is live but never ready: the master refused it throughout.
    bad.wait(ready=False)
    assert httpx.get(bad.url + "/readyz").status_code == 503
    wait_for(lambda: "refused this node's CLUSTER_SECRET" in bad.log_path.read_text(), 10, what="refusal logged")


def _signed(keys: ClusterKeys, path: str, request: object) -> tuple[tuple[str, str], ...]:
    return ((AUTH_HEADER, keys.sign_call(path, "x", request.SerializeToString())),)  # type: ignore[attr-defined]


async def test_grpc_port_refuses_wrong_or_missing_secret(fleet) -> None:
    fleet.start_master().wait()
    async with grpc.aio.insecure_channel(f"127.0.0.1:{fleet.grpc_port}") as channel:
        stub = rpc.ConfigStub(channel)
        request = pb.SnapshotRequest()
        for metadata in ((), _signed(ClusterKeys("wrong"), GET_SNAPSHOT, request), ((AUTH_HEADER, "x:1:abc"),)):
            with pytest.raises(grpc.aio.AioRpcError) as err:
                await stub.GetSnapshot(request, metadata=metadata, timeout=5)
            assert err.value.code() == grpc.StatusCode.UNAUTHENTICATED
        with pytest.raises(grpc.aio.AioRpcError) as err:
            await rpc.QuotaStub(channel).ReportBatch(pb.Batch(id="x:1"), timeout=5)
        assert err.value.code() == grpc.StatusCode.UNAUTHENTICATED
        keys = ClusterKeys(SECRET)
        sealed = await stub.GetSnapshot(request, metadata=_signed(keys, GET_SNAPSHOT, request), timeout=5)
        assert sealed.sealed and b"sk-upstream" not in sealed.sealed
        batch = pb.Batch(id="someone-else:1")
        with pytest.raises(grpc.aio.AioRpcError) as err:  # a node may only report its own batches
            await rpc.QuotaStub(channel).ReportBatch(batch, metadata=_signed(keys, REPORT_BATCH, batch), timeout=5)
        assert err.value.code() == grpc.StatusCode.INVALID_ARGUMENT
