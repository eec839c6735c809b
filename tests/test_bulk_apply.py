"""Applying a quota batch in bulk (master.db.bulk through master.relay_host), on each backend: a
slave's batch touching many tokens, users and channels lands with its exact sums, one change-log
row per touched row and its log rows, once; a resend changes nothing. The master's own flush takes
the same path."""

from __future__ import annotations

import asyncio
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from sqlalchemy import func, insert, select

from master.db import bulk
from master.db.schema import channels, config_changes, logs, tokens, users
from master.logbook import LOG_CONSUME
from shared.relay.sink import DeltaBatch
from shared.snapshot_changes import RowChanges
from tests.support.app import running_master
from tests.support.services import FreshDatabase

USERS, TOKENS, CHANNELS = 120, bulk.MYSQL_CHUNK + 150, 3  # more tokens than one MySQL statement takes
TOKEN_QUOTA, USER_QUOTA = 10**9, 10**12
MISSING_TOKEN = 10**6  # a token deleted meanwhile: its sums are skipped, as an UPDATE skips them


async def _install(app: Any) -> tuple[list[int], list[int], list[int]]:
    """USERS users, TOKENS limited tokens spread over them, CHANNELS channels; their ids."""
    async with app.state.ctx.store.main.begin() as conn:
        await conn.execute(
            insert(users), [{"username": f"bulk{i}", "password": "x", "quota": USER_QUOTA, "aff_code": f"bulk{i}"} for i in range(USERS)]
        )
        user_ids = list((await conn.execute(select(users.c.id).where(users.c.username.like("bulk%")).order_by(users.c.id))).scalars())
        await conn.execute(
            insert(tokens),
            [
                {"user_id": user_ids[i % USERS], "key": f"bulk{i:044d}", "name": f"bulk{i}", "remain_quota": TOKEN_QUOTA}
                for i in range(TOKENS)
            ],
        )
        token_ids = list((await conn.execute(select(tokens.c.id).where(tokens.c.name.like("bulk%")).order_by(tokens.c.id))).scalars())
        await conn.execute(insert(channels), [{"name": f"bulk{i}", "key": "sk", "models": "m", "config": "{}"} for i in range(CHANNELS)])
        channel_ids = list(
            (await conn.execute(select(channels.c.id).where(channels.c.name.like("bulk%")).order_by(channels.c.id))).scalars()
        )
    await app.state.relay.feed.step()  # the install is in the snapshot; what follows is the batch alone
    return user_ids, token_ids, channel_ids


def _log_row(user_id: int, channel_id: int, quota: int, request_id: str) -> dict[str, Any]:
    return {
        "user_id": user_id,
        "created_at": 1_700_000_000,
        "type": LOG_CONSUME,
        "content": "bulk",
        "username": f"u{user_id}",
        "token_name": "t",
        "model_name": "m",
        "quota": quota,
        "prompt_tokens": 3,
        "completion_tokens": 4,
        "channel_id": channel_id,
        "request_id": request_id,
        "elapsed_time": 9,
        "is_stream": True,
        "system_prompt_reset": False,
    }


def _requests(user_ids: list[int], token_ids: list[int], channel_ids: list[int], prefix: str) -> DeltaBatch:
    """Two requests per token, each of a different cost, as a node's sink sums them."""
    batch = DeltaBatch()
    for n, token_id in enumerate(token_ids):
        user_id, channel_id = user_ids[n % USERS], channel_ids[n % CHANNELS]
        for k in (1, 2):
            cost = n + 10 * k
            batch.spend(token_id, user_id, True, cost)
            batch.usage(user_id, channel_id, cost, _log_row(user_id, channel_id, cost, f"{prefix}-{n}-{k}"))
    return batch


async def _state(app: Any, prefix: str) -> dict[str, Any]:
    async with app.state.ctx.store.main.connect() as conn:
        token_rows = {r.id: r for r in (await conn.execute(select(tokens).where(tokens.c.name.like("bulk%")))).all()}
        user_rows = {r.id: r for r in (await conn.execute(select(users).where(users.c.username.like("bulk%")))).all()}
        channel_rows = {r.id: r for r in (await conn.execute(select(channels).where(channels.c.name.like("bulk%")))).all()}
        changes = (await conn.execute(select(config_changes.c.kind, config_changes.c.row_id).order_by(config_changes.c.id))).all()
    async with app.state.ctx.store.logs.connect() as conn:
        log_rows = (await conn.execute(select(logs).where(logs.c.request_id.like(f"{prefix}-%")))).mappings().all()
    return {"tokens": token_rows, "users": user_rows, "channels": channel_rows, "changes": changes, "logs": log_rows}


async def _change_count(app: Any) -> int:
    async with app.state.ctx.store.main.connect() as conn:
        return int((await conn.execute(select(func.count()).select_from(config_changes))).scalar_one())


def _assert_applied(state: Mapping[str, Any], batch: DeltaBatch) -> None:
    for token_id, row in state["tokens"].items():
        spent = batch.token_spent[token_id]
        assert (row.remain_quota, row.used_quota) == (TOKEN_QUOTA - spent, spent)
        assert row.accessed_time
    for user_id, row in state["users"].items():
        assert (row.quota, row.used_quota, row.request_count) == (
            USER_QUOTA - batch.user_spent[user_id],
            batch.user_used[user_id],
            batch.user_requests[user_id],
        )
    assert {i: row.used_quota for i, row in state["channels"].items()} == batch.channel_used
    assert sorted(r["request_id"] for r in state["logs"]) == sorted(r["request_id"] for r in batch.logs)
    assert sum(r["quota"] for r in state["logs"]) == sum(batch.user_used.values())


async def test_a_bulk_batch_applies_its_exact_sums_and_change_rows_once(master) -> None:
    app, _ = master
    host = app.state.relay
    user_ids, token_ids, channel_ids = await _install(app)
    batch = _requests(user_ids, token_ids, channel_ids, "bulk-remote")
    batch.spend(MISSING_TOKEN, user_ids[0], True, 5)
    logged_before = len((await _state(app, "bulk-remote"))["changes"])
    published: list[RowChanges] = []
    host.feed.subscribers.append(lambda changes, _from, _applied: published.append(changes))

    assert await host.apply_remote("bulk-node:1", batch) is True
    state = await _state(app, "bulk-remote")
    del batch.token_spent[MISSING_TOKEN]
    _assert_applied(state, batch)
    # One change-log row per row the batch wrote, each exactly once (no admin write ran meanwhile).
    new_changes = sorted(state["changes"][logged_before:])
    expected = sorted([("token", i) for i in token_ids] + [("user", i) for i in user_ids] + [("channel", i) for i in channel_ids])
    assert new_changes == expected
    await host.feed.step()
    assert len(published) == 1
    change = published[0]
    assert sorted(t.id for t in change.tokens) == token_ids and sorted(u.id for u in change.users) == user_ids
    assert host.engine.snapshot.tokens_by_id[token_ids[-1]].remain_quota == TOKEN_QUOTA - batch.token_spent[token_ids[-1]]

    # A resend (the ack was lost): refused, and nothing is written a second time.
    changes_after = await _change_count(app)
    assert await host.apply_remote("bulk-node:1", batch) is False
    assert await _change_count(app) == changes_after
    again = await _state(app, "bulk-remote")
    _assert_applied(again, batch)
    assert len(again["logs"]) == len(batch.logs)


async def test_the_masters_own_flush_takes_the_bulk_path(master) -> None:
    app, _ = master
    host = app.state.relay
    user_ids, token_ids, channel_ids = await _install(app)
    batch = _requests(user_ids, token_ids, channel_ids, "bulk-own")
    # A row without some columns: they get the column's default, as a single-row INSERT would.
    del batch.logs[0]["elapsed_time"], batch.logs[0]["is_stream"]
    host.sink.pending = batch
    await host.flush()
    state = await _state(app, "bulk-own")
    _assert_applied(state, batch)
    first = next(r for r in state["logs"] if r["request_id"] == batch.logs[0]["request_id"])
    assert (first["elapsed_time"], first["is_stream"]) == (0, False)
    assert host.sink.pending.empty()


async def test_log_rows_as_a_transactions_first_statement_leave_with_its_rollback(master) -> None:
    # On PostgreSQL they go by COPY, around SQLAlchemy, which begins a transaction lazily.
    app, _ = master
    async with app.state.ctx.store.logs.connect() as conn:
        transaction = await conn.begin()
        await bulk.insert_rows(conn, logs, [_log_row(1, 0, 5, "bulk-rollback-1")])
        await transaction.rollback()
    assert (await _state(app, "bulk-rollback"))["logs"] == []


async def _ship_twice(host: Any, node: str, batches: list[DeltaBatch]) -> list[bool]:
    """A node's batches in order, each sent twice at once (a resend racing the original)."""
    outcomes: list[bool] = []
    for seq, batch in enumerate(batches, 1):
        outcomes += await asyncio.gather(*(host.apply_remote(f"{node}:{seq}", batch) for _ in range(2)))
    return outcomes


async def _concurrent_nodes_apply_once(app: Any) -> None:
    host = app.state.relay
    user_ids, token_ids, channel_ids = await _install(app)
    nodes = {f"node{n}": [_requests(user_ids, token_ids[n::4], channel_ids, f"bulk-n-{n}-{b}") for b in range(3)] for n in range(4)}
    results = await asyncio.gather(*(_ship_twice(host, node, batches) for node, batches in nodes.items()))
    assert [sorted(r) for r in results] == [[False] * 3 + [True] * 3] * len(nodes)  # each batch once, its twin refused
    total = DeltaBatch()
    for batch in (b for batches in nodes.values() for b in batches):
        for field in ("token_spent", "user_spent", "user_used", "user_requests", "channel_used"):
            mine = getattr(total, field)
            for key, value in getattr(batch, field).items():
                mine[key] = mine.get(key, 0) + value
        total.logs += batch.logs
    _assert_applied(await _state(app, "bulk-n"), total)
    assert host.applied == {node: 3 for node in nodes}


async def test_concurrent_nodes_and_racing_resends_apply_each_batch_once(master) -> None:
    await _concurrent_nodes_apply_once(master[0])


async def test_a_pool_too_small_to_spare_a_connection_writes_logs_under_the_lock(tmp_path: Path) -> None:
    # SQL_MAX_OPEN_CONNS=2: no batch may hold a connection while it waits for the lock.
    db = FreshDatabase("postgres", tmp_path)
    try:
        async with running_master({**db.env(), "SQL_MAX_OPEN_CONNS": "2", "SQL_MAX_IDLE_CONNS": "2"}) as (app, _):
            assert app.state.relay._logs_slots is None
            await _concurrent_nodes_apply_once(app)
    finally:
        db.drop()
