"""Applying a set of changed rows to a Snapshot, at a cost that grows with the change, not the install.

Token and user entries are replaced in the snapshot's own dicts (a dict assignment, atomic on the
event loop; every entry stays immutable, so a request holding one sees a consistent row). Channels
and options are few: a change to them builds new channel and route tables. The returned Snapshot
carries the new version; the previous object shares the token and user dicts, so it must not be
used to look anything up afterwards (the engine swaps to the new one in the same step).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from dataclasses import dataclass, field

from shared.snapshot import ChannelEntry, Snapshot, TokenEntry, UserEntry, build_routes


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
    tokens, by_id, users = snapshot.tokens, snapshot.tokens_by_id, snapshot.users
    assert isinstance(tokens, dict) and isinstance(by_id, dict) and isinstance(users, dict)
    gone_tokens: list[int] = []
    for key_hash in changes.deleted_token_hashes:
        entry = tokens.pop(key_hash, None)
        if entry is not None:
            by_id.pop(entry.id, None)
            gone_tokens.append(entry.id)
    for token in changes.tokens:
        previous = by_id.get(token.id)
        if previous is not None and previous.key_hash != token.key_hash:
            tokens.pop(previous.key_hash, None)  # a key changed: the old one stops working
        tokens[token.key_hash] = token
        by_id[token.id] = token
    for user_id in changes.deleted_users:
        users.pop(user_id, None)
    for user in changes.users:
        users[user.id] = user
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
