"""Applying a set of changed rows to a Snapshot, at a cost that grows with the change, not the install.

Token and user rows are written in place in the snapshot's tables (shared.tables: O(1) a row, with
no await, so atomic on the event loop; a request holds an entry built from a row, which stays
consistent). Channels
and options are few: a change to them builds new channel and route tables. The returned Snapshot
carries the new version; the previous object shares the token and user tables, so it must not be
used to look anything up afterwards (the engine swaps to the new one in the same step).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from dataclasses import dataclass, field

from shared.snapshot import ChannelEntry, Snapshot, TokenEntry, UserEntry, build_routes, put_token, put_user
from shared.tables import key_digest


@dataclass
class RowChanges:
    """Rows written between two versions, as they are now (built by the master from its database,
    by a slave from a ChangeSet message)."""

    version: int
    users: list[UserEntry] = field(default_factory=list)
    tokens: list[TokenEntry] = field(default_factory=list)
    channels: list[ChannelEntry] = field(default_factory=list)
    deleted_users: list[int] = field(default_factory=list)
    deleted_token_hashes: list[str] = field(default_factory=list)
    deleted_channels: list[int] = field(default_factory=list)
    options: Mapping[str, str] | None = None  # the whole map when options changed

    def token_ids(self) -> set[int]:
        return {t.id for t in self.tokens}


def apply_changes(snapshot: Snapshot, changes: RowChanges) -> tuple[Snapshot, list[int]]:
    """The snapshot with `changes` applied, and the ids of the tokens deleted."""
    tokens, users = snapshot.tokens.table, snapshot.users.table
    gone_tokens: list[int] = []
    for key_hash in changes.deleted_token_hashes:
        row = tokens.row_of_key(key_digest(key_hash))
        if row >= 0:
            gone_tokens.append(tokens.ids[row])
            tokens.delete_id(tokens.ids[row])
    for token in changes.tokens:
        put_token(tokens, token)  # a changed key moves the token: the old key stops working
    for user_id in changes.deleted_users:
        users.delete_id(user_id)
    for user in changes.users:
        put_user(users, user)
    replaced: dict[str, object] = {"version": changes.version}
    if changes.channels or changes.deleted_channels:
        channels = dict(snapshot.channels)
        for channel_id in changes.deleted_channels:
            channels.pop(channel_id, None)
        for channel in changes.channels:
            channels[channel.id] = channel
        routes, group_models = build_routes(channels)
        replaced.update(channels=channels, routes=routes, group_models=group_models)
    if changes.options is not None:
        replaced["options"] = dict(changes.options)
    return dataclasses.replace(snapshot, **replaced), gone_tokens  # type: ignore[arg-type]
