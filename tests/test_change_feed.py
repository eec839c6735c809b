"""The master's change feed (issue 11): what the change log records and what the feed publishes.

Real master, real databases (each backend): the log is filled by triggers inside the writing
transaction, so a rolled-back write leaves nothing to publish; an applied quota batch publishes
only the rows it touched, with no rebuild; a revision that commits after a higher one is still
published (PostgreSQL and MariaDB assign revisions at insert, not at commit).
"""

from __future__ import annotations

import secrets
from collections.abc import Mapping
from typing import Any

import pytest
from sqlalchemy import func, insert, select, update

from master.db.schema import config_changes, tokens
from shared.relay.sink import DeltaBatch
from shared.snapshot_changes import RowChanges
from tests.support.app import running_master
from tests.support.services import FreshDatabase


class Collector:
    def __init__(self, host: Any) -> None:
        self.sets: list[RowChanges] = []
        host.feed.subscribers.append(self.take)

    def take(self, changes: RowChanges, from_version: int, applied: Mapping[str, int]) -> None:
        assert from_version + 1 == changes.version
        self.sets.append(changes)

    def token_ids(self) -> list[int]:
        return [t.id for s in self.sets for t in s.tokens]


def _token(user_id: int = 1, **fields: Any) -> dict[str, Any]:
    return {
        "user_id": user_id,
        "key": secrets.token_hex(24),
        "name": "t",
        "status": 1,
        "remain_quota": 1000,
        "unlimited_quota": False,
        **fields,
    }


async def _log_size(app: Any) -> int:
    async with app.state.ctx.store.main.connect() as conn:
        return int((await conn.execute(select(func.count()).select_from(config_changes))).scalar_one())


async def _insert_token(app: Any, **fields: Any) -> int:
    async with app.state.ctx.store.main.begin() as conn:
        result = await conn.execute(insert(tokens).values(**_token(**fields)))
        return int(result.inserted_primary_key[0])


async def test_a_rolled_back_write_is_never_published(master) -> None:
    app, _ = master
    host = app.state.relay
    token_id = await _insert_token(app)
    await host.feed.step()
    collected = Collector(host)
    logged = await _log_size(app)

    class Abort(Exception):
        pass

    with pytest.raises(Abort):
        async with app.state.ctx.store.main.begin() as conn:
            await conn.execute(update(tokens).where(tokens.c.id == token_id).values(status=2))
            await conn.execute(insert(tokens).values(**_token()))
            raise Abort
    await host.feed.step()
    assert collected.sets == [] and await _log_size(app) == logged
    assert host.engine.snapshot.tokens_by_id[token_id].status == 1

    async with app.state.ctx.store.main.begin() as conn:
        await conn.execute(update(tokens).where(tokens.c.id == token_id).values(status=2))
    await host.feed.step()
    assert collected.token_ids() == [token_id]
    assert host.engine.snapshot.tokens_by_id[token_id].status == 2


async def test_an_applied_batch_publishes_only_its_rows_and_rebuilds_nothing(master, monkeypatch) -> None:
    app, _ = master
    host = app.state.relay
    ids = [await _insert_token(app) for _ in range(20)]
    await host.feed.step()

    async def no_rebuild() -> None:
        raise AssertionError("a batch must not rebuild the snapshot")

    monkeypatch.setattr(host, "rebuild", no_rebuild)
    collected = Collector(host)
    batch = DeltaBatch()
    batch.spend(ids[3], 1, True, 70)
    assert await host.apply_remote("node-a:1", batch)
    await host.feed.step()
    assert len(collected.sets) == 1
    change = collected.sets[0]
    assert [t.id for t in change.tokens] == [ids[3]] and [u.id for u in change.users] == [1]
    assert change.tokens[0].remain_quota == 930
    assert host.engine.snapshot.tokens_by_id[ids[3]].remain_quota == 930
    assert host.engine.ledger.token_balance(ids[3]) == 930
    assert host.snapshot_applied == {"node-a": 1}
    assert host.engine.snapshot.tokens_by_id[ids[4]].remain_quota == 1000


async def test_a_deleted_token_stops_working_and_its_hash_is_published(master) -> None:
    app, _ = master
    host = app.state.relay
    token_id = await _insert_token(app)
    await host.feed.step()
    key_hash = host.engine.snapshot.tokens_by_id[token_id].key_hash
    assert key_hash in host.engine.snapshot.tokens
    collected = Collector(host)
    async with app.state.ctx.store.main.begin() as conn:
        await conn.execute(tokens.delete().where(tokens.c.id == token_id))
    await host.feed.step()
    assert collected.sets[0].deleted_token_hashes == [key_hash]
    assert key_hash not in host.engine.snapshot.tokens and token_id not in host.engine.snapshot.tokens_by_id


@pytest.mark.parametrize("backend", ["postgres", "mysql"])
async def test_a_revision_that_commits_after_a_higher_one_is_still_published(backend: str, tmp_path) -> None:
    db = FreshDatabase(backend, tmp_path)
    try:
        async with running_master(db.env()) as (app, _):
            host = app.state.relay
            await host.feed.step()
            collected = Collector(host)
            store = app.state.ctx.store.main
            async with store.connect() as slow:
                transaction = await slow.begin()
                early = await slow.execute(insert(tokens).values(**_token()))  # takes the lower revision
                late_id = await _insert_token(app)  # a higher revision, committed first
                await host.feed.step()
                assert collected.token_ids() == [late_id]
                await transaction.commit()
            await host.feed.step()
            assert collected.token_ids() == [late_id, int(early.inserted_primary_key[0])]
            assert int(early.inserted_primary_key[0]) in host.engine.snapshot.tokens_by_id
    finally:
        db.drop()


async def test_prune_drops_only_old_rows_the_feed_has_read(master) -> None:
    app, _ = master
    host = app.state.relay
    async with app.state.ctx.store.main.begin() as conn:
        await conn.execute(insert(config_changes), [{"kind": "token", "row_id": 9999, "created_at": 1} for _ in range(3)])
    await _insert_token(app)  # a fresh row, read by the feed but younger than CHANGE_LOG_MAX_AGE
    await host.feed.step()
    async with app.state.ctx.store.main.begin() as conn:  # an old row the feed has not read yet
        await conn.execute(insert(config_changes).values(kind="token", row_id=9998, created_at=1))
    await host.feed.prune()
    async with app.state.ctx.store.main.connect() as conn:
        left = (await conn.execute(select(config_changes.c.row_id, config_changes.c.created_at))).all()
    assert (9999, 1) not in left and (9998, 1) in left
    assert any(created > 1 for _row, created in left)


async def test_prune_keeps_the_newest_row_so_ids_are_never_handed_out_again(master) -> None:
    app, _ = master
    host = app.state.relay
    await _insert_token(app)
    await host.feed.step()
    async with app.state.ctx.store.main.begin() as conn:
        await conn.execute(update(config_changes).values(created_at=1))  # everything is old
    await host.feed.prune()
    assert await _log_size(app) == 1
    collected = Collector(host)
    token_id = await _insert_token(app)
    await host.feed.step()
    assert collected.token_ids() == [token_id]
