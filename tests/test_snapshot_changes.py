"""Change sets applied to a snapshot (issue 11): only the named rows change, deletions go by key
hash, a changed key stops the old one, channel changes rebuild the routes; and a change set sealed
on the master opens on a slave as the same rows."""

from __future__ import annotations

from shared.cluster.changes import changes_message, open_changes, seal_changes
from shared.cluster.crypto import ClusterKeys
from shared.keys import key_hash
from shared.relay.ledger import Ledger
from shared.snapshot import build_snapshot, channel_entry, token_entry, user_entry
from shared.snapshot_changes import RowChanges, apply_changes

CHANNEL = {"id": 5, "type": 1, "key": "sk-up", "status": 1, "name": "c", "weight": 1, "priority": 0, "models": "gpt-4", "group": "default"}


def _snapshot():  # type: ignore[no-untyped-def]
    users = [{"id": 1, "username": "u", "group": "default", "status": 1, "quota": 500}]
    tokens = [{"id": i, "user_id": 1, "key": f"key{i}", "status": 1, "remain_quota": 100} for i in (1, 2, 3)]
    return build_snapshot(1, users, tokens, [CHANNEL], {"RetryTimes": "1"})


def test_only_the_named_rows_change_and_deletions_go_by_hash() -> None:
    snapshot = _snapshot()
    untouched = snapshot.tokens_by_id[3]
    changes = RowChanges(
        version=2,
        tokens=[token_entry({"id": 1, "user_id": 1, "key": "key1", "status": 2, "remain_quota": 40})],
        users=[user_entry({"id": 1, "username": "u", "status": 1, "quota": 300})],
        deleted_token_hashes=[key_hash("key2")],
    )
    updated, gone = apply_changes(snapshot, changes)
    assert updated.version == 2 and gone == [2]
    assert updated.tokens[key_hash("key1")].status == 2 and updated.users[1].quota == 300
    assert key_hash("key2") not in updated.tokens and 2 not in updated.tokens_by_id
    assert updated.tokens_by_id[3] == untouched  # an untouched row reads the same
    assert updated.routes == snapshot.routes and updated.options == snapshot.options


def test_a_changed_key_retires_the_old_one_and_channels_rebuild_routes() -> None:
    snapshot = _snapshot()
    disabled = channel_entry({**CHANNEL, "status": 2})
    changes = RowChanges(
        version=2,
        tokens=[token_entry({"id": 1, "user_id": 1, "key": "new", "status": 1})],
        channels=[disabled],
        options={"RetryTimes": "3"},
    )
    updated, _ = apply_changes(snapshot, changes)
    assert key_hash("key1") not in updated.tokens and updated.tokens[key_hash("new")].id == 1
    assert updated.routes == {} and updated.channels[5].status == 2
    assert updated.options == {"RetryTimes": "3"}


def test_the_ledger_refreshes_only_changed_rows_net_of_what_is_pending() -> None:
    snapshot = _snapshot()
    ledger = Ledger()
    ledger.reseed(snapshot, {}, {})
    ledger.token_remain[3] = 77  # spent here since the snapshot
    row = token_entry({"id": 1, "user_id": 1, "key": "key1", "status": 1, "remain_quota": 60, "used_quota": 40})
    snapshot.tokens_by_id.table.delete_id(2)  # as apply_changes does before the refresh
    ledger.refresh([row], [], [2], [], {1: 10}, {})
    assert ledger.token_balance(1) == 50 and ledger.token_used[1] == 50
    assert ledger.token_balance(3) == 77 and 2 not in ledger.token_remain


def test_a_sealed_change_set_opens_as_the_same_rows() -> None:
    keys = ClusterKeys("secret")
    token = token_entry(
        {"id": 1, "user_id": 1, "key": "key1", "status": 2, "remain_quota": 40, "models": "gpt-4", "subnet": "10.0.0.0/8", "rpm_limit": 3}
    )
    changes = RowChanges(
        version=8, tokens=[token], channels=[channel_entry(CHANNEL)], deleted_users=[9], deleted_token_hashes=["ab"], options={"A": "1"}
    )
    sealed = seal_changes(keys, changes_message(changes, "ep", 7, {"slave-a": 4}))
    assert b"sk-up" not in sealed.SerializeToString()  # channel keys travel sealed
    opened = open_changes(keys, sealed)
    assert (opened.epoch, opened.from_version, opened.applied) == ("ep", 7, {"slave-a": 4})
    assert opened.changes.tokens == [token] and opened.changes.channels == [channel_entry(CHANNEL)]
    assert opened.changes.deleted_users == [9] and opened.changes.deleted_token_hashes == ["ab"]
    assert opened.changes.options == {"A": "1"}
    assert open_changes(keys, seal_changes(keys, changes_message(RowChanges(version=9), "ep", 8, {}))).changes.options is None
