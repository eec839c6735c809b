"""The master's gRPC port against a listener on the cluster link (issue 12, item 7).

A real slave link ships a real batch through a recording proxy, as an eavesdropper would see it;
replaying the captured call, or pairing its signature with a forged body that credits a user, is
refused, as are an expired signature and (signed correctly) a batch with a negative spend. With no
GRPC_HOST the port listens on 127.0.0.1 only.
"""

from __future__ import annotations

import asyncio
import ipaddress
import time
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import grpc
import pytest
from sqlalchemy import select

from master.db.schema import users
from shared.cluster.crypto import AUTH_HEADER, AUTH_WINDOW, ClusterKeys
from shared.cluster.pb import cluster_pb2 as pb
from shared.settings import build_settings
from slave.link import MasterLink
from slave.shipper import Shipper
from tests.support.app import running_master
from tests.support.ports import free_port

SECRET = "replay-test-secret"
REPORT_BATCH = "/oneapi.cluster.v1.Quota/ReportBatch"
WATCH = "/oneapi.cluster.v1.Config/Watch"
CREDIT = -123_456_789


class RecordingProxy(grpc.GenericRpcHandler):
    """Forwards unary calls to the master byte for byte and keeps what it saw: (path, body, auth)."""

    def __init__(self, upstream: grpc.aio.Channel) -> None:
        self.upstream = upstream
        self.seen: list[tuple[str, bytes, tuple[tuple[str, str], ...]]] = []

    def service(self, details: grpc.HandlerCallDetails) -> grpc.RpcMethodHandler:
        path = details.method

        async def forward(body: bytes, context: grpc.aio.ServicerContext) -> bytes:
            auth = tuple((k, v) for k, v in context.invocation_metadata() if k == AUTH_HEADER)
            self.seen.append((path, body, auth))
            return await self.upstream.unary_unary(path)(body, metadata=auth, timeout=10)

        return grpc.unary_unary_rpc_method_handler(forward)


@pytest.fixture
async def master_port(sqlite_database: Any, master_env: dict[str, str]) -> AsyncIterator[tuple[Any, int]]:
    port = free_port()
    env = {**sqlite_database.env(), "CLUSTER_SECRET": SECRET, "GRPC_PORT": str(port), **master_env}
    async with running_master(env) as (app, _):
        yield app, port


async def _root_quota(app: Any) -> int:
    async with app.state.ctx.store.main.connect() as conn:
        return (await conn.execute(select(users.c.quota).where(users.c.id == 1))).scalar_one()


async def _send(channel: grpc.aio.Channel, body: bytes, auth: Any) -> grpc.StatusCode:
    try:
        await channel.unary_unary(REPORT_BATCH)(body, metadata=auth, timeout=10)
    except grpc.aio.AioRpcError as exc:
        return exc.code()
    return grpc.StatusCode.OK


def _credit_batch(batch_id: str) -> bytes:
    return pb.Batch(id=batch_id, user_spent=[pb.Amount(id=1, amount=CREDIT)]).SerializeToString(deterministic=True)


async def _capture_one_batch(master: int, tmp_path: Path, cost: int = 100) -> tuple[str, bytes, Any]:
    """A real slave (link + shipper) ships one settled cost for user 1 through the recording proxy."""
    async with grpc.aio.insecure_channel(f"127.0.0.1:{master}") as upstream:
        proxy = RecordingProxy(upstream)
        server = grpc.aio.server()
        server.add_generic_rpc_handlers((proxy,))
        proxy_port = server.add_insecure_port("127.0.0.1:0")
        await server.start()
        env = {
            "NODE_TYPE": "slave",
            "MASTER_ADDR": f"127.0.0.1:{proxy_port}",
            "CLUSTER_SECRET": SECRET,
            "NODE_ID": "slave-a",
            "SPOOL_DIR": str(tmp_path),
        }
        settings = build_settings(env)
        link = MasterLink(settings, ClusterKeys(SECRET))
        await link.open()
        shipper = Shipper(settings, link)
        shipper.start()
        try:
            shipper.spend(0, 1, False, cost)
            shipper.usage(1, 0, cost, None)
            await shipper.seal()
            async with asyncio.timeout(20):
                while shipper.shipped < 1:
                    await asyncio.sleep(0.02)
        finally:
            await shipper.close(time.monotonic() + 5)
            await link.close()
            await server.stop(None)
    [captured] = [seen for seen in proxy.seen if seen[0] == REPORT_BATCH]
    return captured


async def test_a_captured_call_cannot_be_replayed_or_reused_for_another_body(master_port: tuple[Any, int], tmp_path: Path) -> None:
    app, port = master_port
    before = await _root_quota(app)
    _, body, auth = await _capture_one_batch(port, tmp_path)
    assert auth and await _root_quota(app) == before - 100  # the real call went through, once
    async with grpc.aio.insecure_channel(f"127.0.0.1:{port}") as channel:
        for batch_id in ("slave-a:2", "slave-a:1"):  # its signature on a body that credits user 1
            assert await _send(channel, _credit_batch(batch_id), auth) == grpc.StatusCode.UNAUTHENTICATED
        assert await _send(channel, body, auth) == grpc.StatusCode.UNAUTHENTICATED  # the same call again
    assert await _root_quota(app) == before - 100


async def test_an_expired_signature_is_refused(master_port: tuple[Any, int]) -> None:
    _, port = master_port
    body = pb.Batch(id="slave-a:1", user_spent=[pb.Amount(id=1, amount=1)]).SerializeToString(deterministic=True)
    stale = ClusterKeys(SECRET).sign_call(REPORT_BATCH, "slave-a", body, now=time.time() - AUTH_WINDOW - 5)
    async with grpc.aio.insecure_channel(f"127.0.0.1:{port}") as channel:
        assert await _send(channel, body, ((AUTH_HEADER, stale),)) == grpc.StatusCode.UNAUTHENTICATED


async def test_a_signed_watch_request_opens_one_stream_only(master_port: tuple[Any, int]) -> None:
    _, port = master_port
    body = pb.WatchRequest(node_id="slave-a").SerializeToString(deterministic=True)
    auth = ((AUTH_HEADER, ClusterKeys(SECRET).sign_call(WATCH, "slave-a", body)),)
    async with grpc.aio.insecure_channel(f"127.0.0.1:{port}") as channel:
        watch = channel.unary_stream(WATCH, response_deserializer=pb.SealedSnapshot.FromString)
        first = watch(body, metadata=auth)
        assert (await first.read()).sealed
        first.cancel()
        with pytest.raises(grpc.aio.AioRpcError) as err:
            await watch(body, metadata=auth).read()
        assert err.value.code() == grpc.StatusCode.UNAUTHENTICATED


async def test_a_negative_spend_or_a_foreign_status_is_refused_even_when_signed(master_port: tuple[Any, int]) -> None:
    app, port = master_port
    before = await _root_quota(app)
    keys = ClusterKeys(SECRET)
    forged = [
        _credit_batch("slave-a:1"),
        pb.Batch(id="slave-a:1", user_used=[pb.Amount(id=1, amount=-5)]).SerializeToString(deterministic=True),
        pb.Batch(id="slave-a:1", token_spent=[pb.Amount(id=1, amount=-5)]).SerializeToString(deterministic=True),
        pb.Batch(id="slave-a:1", logs=[b'{"type": 2, "quota": -5}']).SerializeToString(deterministic=True),
        pb.Batch(id="slave-a:1", logs=[b'{"type": 1, "quota": 5, "content": "top-up"}']).SerializeToString(deterministic=True),
        pb.Batch(id="slave-a:1", logs=[b"not json"]).SerializeToString(deterministic=True),
        pb.Batch(id="slave-a:1", token_status=[pb.Amount(id=1, amount=1)]).SerializeToString(deterministic=True),  # re-enable
        pb.Batch(id="slave-a:1", channel_status=[pb.ChannelStatus(id=1, status=1)]).SerializeToString(deterministic=True),
        b"\xff\xff\xff",  # not a message at all
    ]
    async with grpc.aio.insecure_channel(f"127.0.0.1:{port}") as channel:
        for body in forged:
            auth = ((AUTH_HEADER, keys.sign_call(REPORT_BATCH, "slave-a", body)),)
            assert await _send(channel, body, auth) == grpc.StatusCode.INVALID_ARGUMENT
        # Nothing of them was applied: the same id still takes a real batch.
        body = pb.Batch(id="slave-a:1", user_spent=[pb.Amount(id=1, amount=7)]).SerializeToString(deterministic=True)
        assert await _send(channel, body, ((AUTH_HEADER, keys.sign_call(REPORT_BATCH, "slave-a", body)),)) == grpc.StatusCode.OK
    assert await _root_quota(app) == before - 7


async def test_a_negative_cost_settled_on_a_slave_never_credits_the_user(master_port: tuple[Any, int], tmp_path: Path) -> None:
    app, port = master_port
    before = await _root_quota(app)
    await _capture_one_batch(port, tmp_path, cost=CREDIT)  # e.g. from a negative ratio
    assert await _root_quota(app) == before


def _listening_addresses(port: int) -> set[str]:
    """Local addresses of the sockets listening on `port` (IPv4 and IPv6), from /proc."""
    found = set()
    for table in ("tcp", "tcp6"):
        with open(f"/proc/net/{table}") as f:
            for line in f.read().splitlines()[1:]:
                local, state = line.split()[1], line.split()[3]
                address, _, hex_port = local.rpartition(":")
                if state == "0A" and int(hex_port, 16) == port:
                    found.add(str(_proc_address(address)))
    return found


def _proc_address(text: str) -> ipaddress.IPv4Address | ipaddress.IPv6Address:
    """/proc/net prints addresses as 32-bit words in host (little-endian) order; v4-mapped as IPv4."""
    raw = b"".join(bytes.fromhex(text[i : i + 8])[::-1] for i in range(0, len(text), 8))
    if len(raw) == 4:
        return ipaddress.IPv4Address(raw)
    v6 = ipaddress.IPv6Address(raw)
    return v6.ipv4_mapped or v6


async def test_the_port_listens_on_loopback_only_by_default(master_port: tuple[Any, int]) -> None:
    _, port = master_port
    assert _listening_addresses(port) == {"127.0.0.1"}


def test_the_nonce_cache_is_capped_and_forgets_nonces_past_the_window() -> None:
    from shared.cluster.crypto import SignedCall
    from shared.cluster.nonces import NonceCache, Verdict

    cache = NonceCache(cap=2, window=300)
    first, second, third = (SignedCall("n", 1000, f"{i:032x}") for i in range(3))
    assert cache.admit(first, now=1000) is Verdict.FRESH
    assert cache.admit(first, now=1200) is Verdict.REPLAYED
    assert cache.admit(second, now=1200) is Verdict.FRESH
    assert cache.admit(third, now=1200) is Verdict.FULL and len(cache) == 2
    # Past the window the stamp itself is refused, so its nonces are dropped and room is made.
    later = SignedCall("n", 1301, third.nonce)
    assert cache.admit(later, now=1301) is Verdict.FRESH and len(cache) == 1


@pytest.mark.parametrize("master_env", [{"CLUSTER_NONCE_CAP": "2"}])
async def test_past_the_nonce_cap_calls_are_refused_not_remembered(master_port: tuple[Any, int]) -> None:
    _, port = master_port
    keys = ClusterKeys(SECRET)
    body = pb.Batch(id="slave-a:1").SerializeToString(deterministic=True)
    async with grpc.aio.insecure_channel(f"127.0.0.1:{port}") as channel:
        codes = [await _send(channel, body, ((AUTH_HEADER, keys.sign_call(REPORT_BATCH, "slave-a", body)),)) for _ in range(3)]
    assert codes == [grpc.StatusCode.OK, grpc.StatusCode.OK, grpc.StatusCode.RESOURCE_EXHAUSTED]
