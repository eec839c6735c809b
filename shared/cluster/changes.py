"""Change sets on the wire: RowChanges <-> ChangeSet message, sealed like snapshots (they carry
channel keys) wherever they travel or rest (gRPC without TLS, Redis)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from shared.cluster.convert import channel_fields, channel_row, token_fields, token_row, user_fields, user_row
from shared.cluster.crypto import ClusterKeys
from shared.cluster.pb import cluster_pb2 as pb
from shared.snapshot import channel_entry, token_entry, user_entry
from shared.snapshot_changes import RowChanges


@dataclass(frozen=True)
class OpenedChanges:
    epoch: str
    from_version: int
    changes: RowChanges
    applied: Mapping[str, int]  # node id -> highest batch sequence inside these rows' balances


def changes_message(changes: RowChanges, epoch: str, from_version: int, applied: Mapping[str, int]) -> pb.ChangeSet:
    msg = pb.ChangeSet(
        epoch=epoch,
        from_version=from_version,
        version=changes.version,
        applied=dict(applied),
        deleted_users=changes.deleted_users,
        deleted_token_hashes=changes.deleted_token_hashes,
        deleted_channels=changes.deleted_channels,
    )
    for u in changes.users:
        msg.users.add(**user_fields(u))
    for t in changes.tokens:
        msg.tokens.add(**token_fields(t))
    for c in changes.channels:
        msg.channels.add(**channel_fields(c))
    if changes.options is not None:
        msg.options_changed = True
        msg.options.update(changes.options)
    return msg


def seal_changes(keys: ClusterKeys, msg: pb.ChangeSet) -> pb.SealedChanges:
    return pb.SealedChanges(epoch=msg.epoch, from_version=msg.from_version, version=msg.version, sealed=keys.seal(msg.SerializeToString()))


def open_changes(keys: ClusterKeys, sealed: pb.SealedChanges) -> OpenedChanges:
    """Raises SealError when `sealed` was not made with this cluster secret."""
    msg = pb.ChangeSet()
    msg.ParseFromString(keys.unseal(sealed.sealed))
    changes = RowChanges(
        version=msg.version,
        users=[user_entry(user_row(u)) for u in msg.users],
        tokens=[token_entry(token_row(t)) for t in msg.tokens],
        channels=[channel_entry(channel_row(c)) for c in msg.channels],
        deleted_users=list(msg.deleted_users),
        deleted_token_hashes=list(msg.deleted_token_hashes),
        deleted_channels=list(msg.deleted_channels),
        options=dict(msg.options) if msg.options_changed else None,
    )
    return OpenedChanges(epoch=msg.epoch, from_version=msg.from_version, changes=changes, applied=dict(msg.applied))
