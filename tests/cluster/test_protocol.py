"""The protocol's pure parts: sealing, call signatures, snapshot and batch round trips."""

from __future__ import annotations

import pytest

from shared.cluster.convert import batch_from_message, batch_message, open_snapshot, parse_batch_id, seal_snapshot, snapshot_message
from shared.cluster.crypto import AUTH_WINDOW, ClusterKeys, SealError
from shared.keys import key_hash
from shared.relay.sink import DeltaBatch
from shared.snapshot import build_snapshot


def _snapshot():
    users = [{"id": 1, "username": "root", "group": "default", "status": 1, "role": 100, "quota": 500, "used_quota": 7}]
    tokens = [
        {
            "id": 3,
            "user_id": 1,
            "name": "t",
            "status": 1,
            "expired_time": -1,
            "remain_quota": 40,
            "unlimited_quota": False,
            "used_quota": 2,
            "models": "gpt-4o,gpt-3.5-turbo",
            "subnet": "10.0.0.0/8",
            "key": "abc",
        }
    ]
    channels = [
        {
            "id": 9,
            "type": 3,
            "key": "sk-up",
            "status": 1,
            "name": "az",
            "weight": 2,
            "priority": 5,
            "base_url": "http://x",
            "config": '{"region":"eu"}',
            "other": "2024-01-01",
            "models": "gpt-4o",
            "group": "default,vip",
            "model_mapping": '{"gpt-4o":"gpt-4o-2024"}',
            "system_prompt": "be brief",
        }
    ]
    return build_snapshot(12, users, tokens, channels, {"RetryTimes": "2"})


def test_snapshot_round_trip_keeps_what_the_relay_reads() -> None:
    keys = ClusterKeys("s3cret")
    original = _snapshot()
    sealed = seal_snapshot(keys, snapshot_message(original, "ep", {"slave-a": 4}))
    assert b"sk-up" not in sealed.sealed
    replica = open_snapshot(keys, sealed)
    got = replica.snapshot
    assert (replica.epoch, got.version, dict(replica.applied)) == ("ep", 12, {"slave-a": 4})
    assert dict(got.tokens) == dict(original.tokens) and key_hash("abc") in got.tokens
    assert got.users == original.users and got.channels == original.channels
    assert got.routes == original.routes and got.group_models == original.group_models
    assert got.options == original.options


def test_wrong_secret_cannot_open_a_snapshot() -> None:
    sealed = seal_snapshot(ClusterKeys("right"), snapshot_message(_snapshot(), "ep", {}))
    with pytest.raises(SealError):
        open_snapshot(ClusterKeys("wrong"), sealed)


def test_call_signature_binds_secret_window_method_and_body() -> None:
    keys = ClusterKeys("s3cret")
    method = "/oneapi.cluster.v1.Quota/ReportBatch"
    value = keys.sign_call(method, "node:1", b"body", now=1000)
    call = keys.verify_call(value, method, b"body", now=1010)
    assert call is not None and (call.node_id, call.stamp) == ("node:1", 1000) and len(call.nonce) == 32
    assert keys.verify_call(value, method, b"body", now=1000 + AUTH_WINDOW + 1) is None
    assert keys.verify_call(value, method, b"other body", now=1000) is None
    assert keys.verify_call(value, "/oneapi.cluster.v1.Config/GetSnapshot", b"body", now=1000) is None
    assert ClusterKeys("other").verify_call(value, method, b"body", now=1000) is None
    assert keys.verify_call(value.replace(call.nonce, "0" * 32), method, b"body", now=1000) is None
    assert keys.verify_call("garbage", method, b"body", now=1000) is None
    assert keys.verify_call(None, method, b"") is None
    assert keys.sign_call(method, "n", b"") != keys.sign_call(method, "n", b"")  # a fresh nonce each call


def test_batch_round_trip() -> None:
    batch = DeltaBatch()
    batch.spend(3, 1, True, 25)
    batch.usage(1, 9, 25, {"user_id": 1, "quota": 25, "is_stream": False, "content": "x"})
    batch.token_status[3] = 4
    batch.channel_status[9] = (3, "bad key")
    back = batch_from_message(batch_message("n:5", batch))
    assert back == batch
    assert parse_batch_id("host-1:3000:17") == ("host-1:3000", 17)
    assert parse_batch_id("nope") is None
