"""The master's change feed: tails the change log (`config_changes`, filled by triggers in each
writing transaction, see m0004), reads only the rows it names, applies them to the master's own
snapshot and ledger, and hands each change set to subscribers (the cluster publisher).

Versions: the snapshot's version counts change sets within this process (the epoch tells slaves
a master restarted). The log's revisions are the database's auto-increment, assigned when a row is
inserted, not when its transaction commits: on PostgreSQL and MariaDB a revision below the highest
seen may still commit later. Such a gap is remembered and looked up again until HOLE_GRACE
seconds pass (a rolled-back transaction leaves its revisions unused forever).
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable, Iterable, Mapping
from typing import TYPE_CHECKING, Any

from sqlalchemy import BigInteger, any_, bindparam, delete, func, select
from sqlalchemy.dialects.postgresql import ARRAY

from master.db import change_triggers
from master.db.schema import channels, config_changes, tokens, users
from shared.logs import get_logger
from shared.snapshot import channel_entry, token_entry, user_entry
from shared.snapshot_changes import RowChanges, apply_changes

if TYPE_CHECKING:
    from master.relay_host import RelayHost

log = get_logger(__name__)

PAGE = 100_000  # log revisions read per step (an applied batch of 2,000 requests writes ~4,000); a longer backlog takes several steps
CHUNK = 500  # ids per IN (...) query
HOLE_GRACE = 30.0  # seconds a missing revision may still commit
MAX_HOLES = 10_000
POLL = 1.0  # seconds between looks at the log when nothing woke the feed
# After a step of d seconds the loop rests PACE * d (at most MAX_REST) before the next. A step holds
# the lock that applying a quota batch takes, so under a stream of batches the feed keeps it at most
# a quarter of the time, and each step covers more batches (a row several changed is read once).
# Admin writes do not wait: they step at once (RelayHost._on_change).
PACE = 3.0
MAX_REST = 2.0
PRUNE_EVERY = 60.0

Subscriber = Callable[[RowChanges, int, Mapping[str, int]], None]


class ChangeFeed:
    def __init__(self, host: RelayHost) -> None:
        self.host = host
        self.version = 1  # the snapshot built at start
        self.head = 0  # highest log revision seen
        self.holes: dict[int, float] = {}  # revision -> monotonic time first missed
        self.subscribers: list[Subscriber] = []
        self.wake = asyncio.Event()
        self._task: asyncio.Task[None] | None = None
        self._pruned_at = time.monotonic()

    async def read_head(self) -> None:
        """Where tailing starts: call before the full read of the start-up snapshot. Puts back the
        log's triggers first if the database lost them (a copy made without them)."""
        async with self.host.ctx.store.main.begin() as conn:
            if await conn.run_sync(change_triggers.ensure):
                log.warning("change log triggers were missing and have been installed")
        async with self.host.ctx.store.main.connect() as conn:
            self.head = int((await conn.execute(select(func.max(config_changes.c.id)))).scalar() or 0)

    def start(self) -> None:
        self._task = asyncio.create_task(self._loop(), name="change-feed")

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            await asyncio.gather(self._task, return_exceptions=True)

    async def _loop(self) -> None:
        while True:
            try:
                await asyncio.wait_for(self.wake.wait(), POLL)
            except TimeoutError:
                pass
            self.wake.clear()
            started = time.monotonic()
            try:
                if await self.step():
                    self.wake.set()  # a full page: more is waiting
                if time.monotonic() - self._pruned_at > PRUNE_EVERY:
                    await self.prune()
            except Exception:
                log.exception("change feed step failed; retried")
                await asyncio.sleep(1)
            await asyncio.sleep(min(PACE * (time.monotonic() - started), MAX_REST))

    async def step(self) -> bool:
        """Apply what the log gained since the last step; True when a full page was read."""
        async with self.host.lock:
            entries, full = await self._read_log()
            if entries:
                await self._apply(entries)
            return full

    async def _read_log(self) -> tuple[list[tuple[str, int]], bool]:
        """The (kind, row id) pairs the log gained since `head` (up to PAGE revisions), and whether
        the page was full. An applied quota batch writes thousands of revisions, so the database
        groups the page by row: one query, each changed row once. A page with a hole (a revision
        not committed yet) is read again revision by revision, to remember the hole."""
        now = time.monotonic()
        for revision, since in list(self.holes.items()):
            if now - since > HOLE_GRACE:
                del self.holes[revision]
        query = select(config_changes.c.id, config_changes.c.kind, config_changes.c.row_id)
        newer = config_changes.c.id > self.head
        page = query.where(newer).order_by(config_changes.c.id).limit(PAGE).subquery()
        grouped = select(page.c.kind, page.c.row_id, func.max(page.c.id), func.count()).group_by(page.c.kind, page.c.row_id)
        async with self.host.ctx.store.main.connect() as conn:
            pairs = (await conn.execute(grouped)).all()
            top = max((int(p[2]) for p in pairs), default=self.head)
            count = sum(int(p[3]) for p in pairs)
            rows: list[Any] = []
            if top - self.head == count:  # every revision up to `top` is there: no hole
                self.head = top
            else:
                rows = list((await conn.execute(query.where(newer, config_changes.c.id <= top))).all())
            holes = sorted(self.holes)
            for start in range(0, len(holes), CHUNK):
                found = (await conn.execute(query.where(config_changes.c.id.in_(holes[start : start + CHUNK])))).all()
                rows.extend(found)
                for row in found:
                    self.holes.pop(int(row[0]), None)
        expected = self.head + 1
        for revision, _kind, _row in sorted(r for r in rows if r[0] > self.head):
            for missing in range(expected, int(revision)):
                if len(self.holes) < MAX_HOLES:
                    self.holes[missing] = now
            expected = int(revision) + 1
            self.head = int(revision)
        entries = {(str(kind), int(row_id)) for kind, row_id, _top, _count in pairs}
        entries.update((str(kind), int(row_id)) for _rev, kind, row_id in rows)
        return list(entries), count >= PAGE

    async def _apply(self, entries: Iterable[tuple[str, int]]) -> None:
        wanted: dict[str, set[int]] = {"user": set(), "token": set(), "channel": set(), "option": set()}
        for kind, row_id in entries:
            wanted.setdefault(kind, set()).add(row_id)
        host = self.host
        engine = host.engine
        snapshot = engine.snapshot
        assert snapshot is not None
        async with host.ctx.store.main.connect() as conn:
            user_rows = await _rows(conn, users, wanted["user"])
            token_rows = await _rows(conn, tokens, wanted["token"])
            channel_rows = await _rows(conn, channels, wanted["channel"])
        changes = RowChanges(
            version=self.version + 1,
            users=[user_entry(r) for r in user_rows],
            tokens=[token_entry(r) for r in token_rows],
            channels=[channel_entry(r) for r in channel_rows],
            deleted_users=sorted(wanted["user"] - {int(r["id"]) for r in user_rows}),
            deleted_channels=sorted(wanted["channel"] - {int(r["id"]) for r in channel_rows}),
            options=dict(host.ctx.options.values) if wanted["option"] else None,
        )
        gone_ids = wanted["token"] - {int(r["id"]) for r in token_rows}
        changes.deleted_token_hashes = [snapshot.tokens_by_id[i].key_hash for i in sorted(gone_ids) if i in snapshot.tokens_by_id]
        # No await from here to the install: the ledger, the counters' view and the snapshot agree.
        updated, gone_tokens = apply_changes(snapshot, changes)
        pending = host.sink.pending
        engine.ledger.refresh(
            changes.tokens, changes.users, gone_tokens, changes.deleted_users, pending.token_spent, pending.user_spent, pending.user_used
        )
        applied = dict(host.applied)
        host.snapshot_applied = applied
        if host.counters is not None:
            host.counters.observe_changes(
                {t.id: t.remain_quota for t in changes.tokens}, {u.id: u.quota for u in changes.users}, gone_tokens, changes.deleted_users
            )
        engine.install(updated)
        from_version, self.version = self.version, changes.version
        for subscriber in self.subscribers:
            subscriber(changes, from_version, applied)
        if host.counters is not None:
            await host.counters.sync(host._unsettled())

    async def prune(self) -> None:
        """Drop log rows older than CHANGE_LOG_MAX_AGE that this feed has read (rows above the
        lowest hole stay). The newest row always stays: SQLite (and MariaDB after a restart) would
        otherwise hand out ids at or below `head` again, and those would never be read."""
        self._pruned_at = time.monotonic()
        cutoff = min([self.head, *self.holes])
        oldest = int(time.time()) - self.host.ctx.settings.change_log_max_age
        async with self.host.ctx.store.main.begin() as conn:
            await conn.execute(delete(config_changes).where(config_changes.c.id < cutoff, config_changes.c.created_at < oldest))


async def _rows(conn: Any, table: Any, ids: set[int]) -> list[Mapping[str, Any]]:
    """The rows of `table` with these ids, as dicts: an applied batch can change thousands, and
    the entry builders read a dict about 2.5 times faster than a RowMapping."""
    ordered = sorted(ids)
    if conn.dialect.name == "postgresql":  # one array parameter instead of IN lists of CHUNK
        wanted = [table.c.id == any_(bindparam("ids", ordered, type_=ARRAY(BigInteger)))] if ordered else []
    else:
        wanted = [table.c.id.in_(ordered[start : start + CHUNK]) for start in range(0, len(ordered), CHUNK)]
    found: list[Mapping[str, Any]] = []
    for where in wanted:
        result = await conn.execute(select(table).where(where))
        names = list(result.keys())
        found.extend(dict(zip(names, row, strict=True)) for row in result)
    return found
