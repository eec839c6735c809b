"""Snapshot <-> message and DeltaBatch <-> message.

The master turns the snapshot its own engine runs on into a message; a slave turns the message back
into the same Snapshot, so both relay with identical state. Tokens and users travel as the packed
tables both hold (shared.tables), tokens by key hash only.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import orjson

from shared.cluster.crypto import ClusterKeys
from shared.cluster.pb import cluster_pb2 as pb
from shared.relay.sink import DeltaBatch
from shared.snapshot import (
    ChannelEntry,
    Snapshot,
    TokenEntry,
    UserEntry,
    channel_entry,
    put_token,
    put_user,
    snapshot_of_tables,
    token_entry,
    user_entry,
)
from shared.tables import TokenTable, UserTable


@dataclass(frozen=True)
class Replica:
    """A snapshot as a slave holds it: the snapshot plus where it came from."""

    epoch: str
    snapshot: Snapshot
    applied: Mapping[str, int]  # node id -> highest batch sequence inside these balances


def user_fields(u: UserEntry) -> dict[str, Any]:
    return dict(
        id=u.id,
        username=u.username,
        group=u.group,
        status=u.status,
        role=u.role,
        quota=u.quota,
        used_quota=u.used_quota,
        **u.limits.as_json(),
    )


def token_fields(t: TokenEntry) -> dict[str, Any]:
    return dict(
        id=t.id,
        user_id=t.user_id,
        name=t.name,
        status=t.status,
        expired_time=t.expired_time,
        remain_quota=t.remain_quota,
        unlimited_quota=t.unlimited_quota,
        used_quota=t.used_quota,
        models=t.models_text,
        subnet=t.subnet_text,
        key_hash=t.key_hash,
        **t.limits.as_json(),
    )


def channel_fields(c: ChannelEntry) -> dict[str, Any]:
    return dict(
        id=c.id,
        type=c.type,
        key=c.key,
        status=c.status,
        name=c.name,
        weight=c.weight,
        priority=c.priority,
        base_url=c.base_url,
        config=dict(c.config),
        models=",".join(c.models),
        groups=",".join(c.groups),
        model_mapping=dict(c.model_mapping),
        system_prompt=c.system_prompt,
    )


def user_row(u: pb.User) -> dict[str, Any]:
    return {
        "id": u.id,
        "username": u.username,
        "group": u.group,
        "status": u.status,
        "role": u.role,
        "quota": u.quota,
        "used_quota": u.used_quota,
        **_limits(u),
    }


def token_row(t: pb.Token) -> dict[str, Any]:
    return {
        "id": t.id,
        "user_id": t.user_id,
        "name": t.name,
        "status": t.status,
        "expired_time": t.expired_time,
        "remain_quota": t.remain_quota,
        "unlimited_quota": t.unlimited_quota,
        "used_quota": t.used_quota,
        "models": t.models,
        "subnet": t.subnet,
        "key_hash": t.key_hash,
        **_limits(t),
    }


def channel_row(c: pb.Channel) -> dict[str, Any]:
    return {
        "id": c.id,
        "type": c.type,
        "key": c.key,
        "status": c.status,
        "name": c.name,
        "weight": c.weight,
        "priority": c.priority,
        "base_url": c.base_url,
        "config": orjson.dumps(dict(c.config)).decode(),
        "other": "",
        "models": c.models,
        "group": c.groups,
        "model_mapping": orjson.dumps(dict(c.model_mapping)).decode(),
        "system_prompt": c.system_prompt,
    }


def snapshot_parts(snapshot: Snapshot, epoch: str, applied: Mapping[str, int]) -> dict[str, Any]:
    """What a snapshot message holds, copied out of the live snapshot (call with no await in
    between: the copy is consistent). Tokens and users go as their packed tables: array copies,
    no per-row work."""
    return dict(
        epoch=epoch,
        version=snapshot.version,
        options=dict(snapshot.options),
        applied=dict(applied),
        token_table=snapshot.tokens.table.dump(),
        user_table=snapshot.users.table.dump(),
        channels=[pb.Channel(**channel_fields(c)) for c in snapshot.channels.values()],
    )


def snapshot_message(snapshot: Snapshot, epoch: str, applied: Mapping[str, int]) -> pb.Snapshot:
    return pb.Snapshot(**snapshot_parts(snapshot, epoch, applied))


def replica_from_message(msg: pb.Snapshot) -> Replica:
    """Raises ValueError on tables that do not hold together."""
    channels = [channel_entry(channel_row(c)) for c in msg.channels]
    if msg.token_table or msg.user_table:
        token_table, user_table = TokenTable.load(msg.token_table), UserTable.load(msg.user_table)
    else:  # a master of an earlier version sends rows
        token_table, user_table = TokenTable(len(msg.tokens)), UserTable()
        for u in msg.users:
            put_user(user_table, user_entry(user_row(u)))
        for t in msg.tokens:
            put_token(token_table, token_entry(token_row(t)))
    snapshot = snapshot_of_tables(msg.version, token_table, user_table, channels, dict(msg.options))
    return Replica(epoch=msg.epoch, snapshot=snapshot, applied=dict(msg.applied))


def _limits(entry: pb.User | pb.Token) -> dict[str, int]:
    return {"rpm_limit": entry.rpm_limit, "tpm_limit": entry.tpm_limit, "max_parallel_requests": entry.max_parallel_requests}


def seal_snapshot(keys: ClusterKeys, msg: pb.Snapshot) -> pb.SealedSnapshot:
    return pb.SealedSnapshot(epoch=msg.epoch, version=msg.version, sealed=keys.seal(msg.SerializeToString()))


def seal_parts(keys: ClusterKeys, parts: Mapping[str, Any]) -> pb.SealedSnapshot:
    """`seal_snapshot` of what `snapshot_parts` copied: safe to run in a thread."""
    return seal_snapshot(keys, pb.Snapshot(**parts))


def open_snapshot(keys: ClusterKeys, sealed: pb.SealedSnapshot) -> Replica:
    msg = pb.Snapshot()
    msg.ParseFromString(keys.unseal(sealed.sealed))
    return replica_from_message(msg)


def _amounts(items: Mapping[int, int]) -> list[pb.Amount]:
    return [pb.Amount(id=k, amount=v) for k, v in items.items()]


def batch_message(batch_id: str, batch: DeltaBatch) -> pb.Batch:
    return pb.Batch(
        id=batch_id,
        token_spent=_amounts(batch.token_spent),
        user_spent=_amounts(batch.user_spent),
        user_used=_amounts(batch.user_used),
        user_requests=_amounts(batch.user_requests),
        channel_used=_amounts(batch.channel_used),
        token_status=_amounts(batch.token_status),
        channel_status=[pb.ChannelStatus(id=k, status=s, reason=r) for k, (s, r) in batch.channel_status.items()],
        logs=[orjson.dumps(row) for row in batch.logs],
    )


def batch_from_message(msg: pb.Batch) -> DeltaBatch:
    def amounts(items: Any) -> dict[int, int]:
        out: dict[int, int] = {}
        for item in items:
            out[item.id] = out.get(item.id, 0) + item.amount
        return out

    return DeltaBatch(
        token_spent=amounts(msg.token_spent),
        user_spent=amounts(msg.user_spent),
        user_used=amounts(msg.user_used),
        user_requests=amounts(msg.user_requests),
        channel_used=amounts(msg.channel_used),
        token_status={a.id: a.amount for a in msg.token_status},
        channel_status={c.id: (c.status, c.reason) for c in msg.channel_status},
        logs=[orjson.loads(row) for row in msg.logs],
    )


def parse_batch_id(batch_id: str) -> tuple[str, int] | None:
    """("node", seq) from "node:seq", or None when the id has another shape."""
    node, _, seq = batch_id.rpartition(":")
    if not node or not seq.isdigit():
        return None
    return node, int(seq)
