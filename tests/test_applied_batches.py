"""The master's exactly-once record of slave batches keeps one row per node (its newest batch)."""

from __future__ import annotations

from typing import Any

from sqlalchemy import insert, select

from master.db.schema import applied_batches, users
from shared.relay.sink import DeltaBatch


async def applied_ids(app: Any) -> set[str]:
    async with app.state.ctx.store.main.connect() as conn:
        return set((await conn.execute(select(applied_batches.c.id))).scalars().all())


async def root_quota(app: Any) -> int:
    async with app.state.ctx.store.main.connect() as conn:
        return (await conn.execute(select(users.c.quota).where(users.c.username == "root"))).scalar_one()


def spend(amount: int) -> DeltaBatch:
    batch = DeltaBatch()
    batch.spend(1, 1, False, amount)
    return batch


async def test_each_batch_applies_once_and_only_the_newest_row_stays(master) -> None:
    app, _ = master
    host = app.state.relay
    before = await root_quota(app)
    assert await host.apply_remote("node-a:1", spend(10)) is True
    assert await host.apply_remote("node-a:2", spend(20)) is True
    assert await host.apply_remote("node-b:7", spend(5)) is True
    assert await applied_ids(app) == {"node-a:2", "node-b:7"}
    # Resends, the pruned one included: a sequence at or below the newest applied is never applied again.
    for batch_id in ("node-a:1", "node-a:2", "node-b:7", "node-b:3"):
        assert await host.apply_remote(batch_id, spend(1000)) is False
    assert await root_quota(app) == before - 35
    assert host.applied == {"node-a": 2, "node-b": 7}


async def test_rows_left_by_older_versions_are_pruned_at_start(master) -> None:
    app, _ = master
    host = app.state.relay
    async with app.state.ctx.store.main.begin() as conn:
        await conn.execute(insert(applied_batches), [{"id": i, "applied_at": 0} for i in ("old:1", "old:3", "old:2", "x:9", "x:10")])
    host.applied.clear()
    host.applied_ids.clear()
    await host._load_applied()
    assert await applied_ids(app) == {"old:3", "x:10"}
    assert host.applied == {"old": 3, "x": 10}
    assert await host.apply_remote("old:2", spend(1)) is False
    assert await host.apply_remote("old:4", spend(1)) is True
    assert await applied_ids(app) == {"old:4", "x:10"}
