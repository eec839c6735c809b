"""The relay engine hosted by the master: a snapshot read whole at start, then kept current by the
change feed (master.change_feed: only the rows each write touched), and a sink that writes settled deltas to the database in batches (flushed on shutdown).

BATCH_UPDATE_ENABLED=true flushes every BATCH_UPDATE_INTERVAL seconds (One API's batch updater);
otherwise a flush starts as soon as something is pending, coalescing whatever arrives meanwhile.
Either way the hot path only appends to memory.

With REDIS_CONN_STRING the engine reserves through the fleet's Redis counters (RedisLedger) and a
CounterKeeper seeds and reconciles them: every committed batch is noted, every rebuild compares
the database with what batches explain (master.quota_counters), row by row as the feed reads them.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Callable, Mapping
from typing import TYPE_CHECKING, Any

from sqlalchemy import delete, insert, select, update
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncTransaction

from master.change_feed import ChangeFeed
from master.context import MasterContext
from master.db.bulk import add_by_id, insert_rows
from master.db.schema import abilities, applied_batches, channels, logs, tokens, users
from shared.billing import tokenizer
from shared.cluster.convert import parse_batch_id
from shared.logs import get_logger
from shared.memory import HeapTrimmer
from shared.relay.engine import RelayEngine
from shared.relay.ledger import Ledger
from shared.relay.sink import DeltaBatch
from shared.relay.upstream import limits_from, make_upstream
from shared.snapshot import channel_entry, put_token, put_user, snapshot_of_tables, token_entry, user_entry
from shared.tables import TokenTable, UserTable
from shared.usercontent import UserContentClient

if TYPE_CHECKING:
    from master.quota_counters import CounterKeeper

log = get_logger(__name__)

MAX_PENDING_LOGS = 2000
# apply_remote writes a batch's log rows before taking the lock, holding a connection while it
# waits for it; so many batches at once as leave this many of the pool's connections
# (SQL_MAX_OPEN_CONNS) to the lock's holder and the rest of the node. Never on SQLite, whose single
# writer would wait on the lock's holder.
SPARE_CONNECTIONS = 2


class DatabaseSink:
    """QuotaSink of the master: sums in memory, one transaction per flush.

    With BATCH_UPDATE_ENABLED a flush also comes early once MAX_PENDING_LOGS log rows wait: what a
    busy master holds (~1 KB a row) stays bounded, and so does the heap it keeps afterwards."""

    def __init__(self, host: RelayHost) -> None:
        self.host = host
        self.pending = DeltaBatch()
        self.wake = asyncio.Event()
        self.full = asyncio.Event()

    def spend(self, token_id: int, user_id: int, token_limited: bool, amount: int) -> None:
        self.pending.spend(token_id, user_id, token_limited, amount)
        self.wake.set()

    def usage(self, user_id: int, channel_id: int, quota: int, log_row: dict[str, Any] | None) -> None:
        self.pending.usage(user_id, channel_id, quota, log_row)
        self.wake.set()
        if len(self.pending.logs) >= MAX_PENDING_LOGS:
            self.full.set()

    def mark_token(self, token_id: int, status: int) -> None:
        self.pending.token_status[token_id] = status
        self.wake.set()

    def disable_channel(self, channel_id: int, status: int, reason: str) -> None:
        self.pending.channel_status[channel_id] = (status, reason)
        self.wake.set()


class RelayHost:
    def __init__(self, ctx: MasterContext) -> None:
        self.ctx = ctx
        settings = ctx.settings
        self.sink = DatabaseSink(self)
        self.counters: CounterKeeper | None = None
        ledger: Ledger | None = None
        if settings.redis_enabled:
            # Imported only with Redis: the redis package costs a node ~7 MB of RSS (bench issue).
            from master.quota_counters import CounterKeeper
            from shared.relay.redis_ledger import RedisLedger, connect

            self.redis = connect(settings.redis_conn_string)
            ledger = RedisLedger(self.redis)
            self.counters = CounterKeeper(self.redis)
        self.engine = RelayEngine(
            settings, make_upstream(settings.relay_http_client, proxy=settings.relay_proxy, limits=limits_from(settings)), self.sink, ledger
        )
        self.lock = asyncio.Lock()  # a rebuild never sees half a flush
        early = settings.sql_max_open_conns - SPARE_CONNECTIONS
        self._logs_slots = asyncio.Semaphore(early) if early > 0 else None  # batches writing log rows before the lock
        self.trimmer = HeapTrimmer()  # hands the pages a flushed batch (or slaves' batches) freed back
        self._task: asyncio.Task[None] | None = None
        self._counter_task: asyncio.Task[None] | None = None
        # Called with (channel_id, reason) after an auto-disable is written; set by master.monitors.
        self.on_channel_disabled: Callable[[int, str], None] | None = None
        # Slave batches: node id -> highest sequence applied, and the copy inside the current snapshot.
        self.applied: dict[str, int] = {}
        self.applied_ids: dict[str, str] = {}  # node id -> the id of that newest batch (its one row)
        self.snapshot_applied: dict[str, int] = {}
        self.feed = ChangeFeed(self)

    async def start(self) -> None:
        # Loading the BPE files takes a second or two: do it before the first request, off the loop.
        await asyncio.to_thread(tokenizer.warm_up)
        self.engine.user_content = UserContentClient.from_settings(self.ctx.settings)
        await self._load_applied()
        await self.feed.read_head()  # before the full read: nothing committed after it is missed
        await self.rebuild()
        self.ctx.listeners.append(self._on_change)
        self.feed.start()
        self._task = asyncio.create_task(self._flush_loop(), name="quota-flush")
        if self.counters is not None:
            self._counter_task = asyncio.create_task(self.counters.run(self.sync_counters), name="quota-counters")

    async def stop(self) -> None:
        await self.feed.stop()
        if self._counter_task is not None:
            self._counter_task.cancel()
            await asyncio.gather(self._counter_task, return_exceptions=True)
        if self._task is not None:
            # Cancel under the lock: never in the middle of a flush's transaction (an aiosqlite
            # write cancelled half-way keeps SQLite locked and the final flush then fails).
            async with self.lock:
                self._task.cancel()
            try:
                await self._task
            except asyncio.CancelledError:
                pass
        await self.flush()
        if self.counters is not None:
            await self.redis.aclose()
        await self.engine.upstream.close()
        if self.engine.user_content is not None:
            await self.engine.user_content.aclose()

    async def _on_change(self, what: str) -> None:
        if what == "quota":
            # Slaves' applied batches (master.cluster.server): nobody waits on their rows, so the
            # feed's loop takes them at its own pace.
            self.feed.wake.set()
            return
        # The write has committed: apply it here before the admin's answer (the next request sees it).
        await self.feed.step()

    async def rebuild(self) -> None:
        """Read users, tokens, channels and options into a new snapshot and swap it in (at start:
        afterwards the change feed applies each write's rows). Users and tokens are read a page at
        a time straight into their tables, so a large install never sits in memory as row objects."""
        async with self.lock:
            version = self.feed.version
            token_table, user_table = TokenTable(), UserTable()
            async with self.ctx.store.main.connect() as conn:
                async for row in _paged(conn, users):
                    put_user(user_table, user_entry(row))
                async for row in _paged(conn, tokens):
                    put_token(token_table, token_entry(row))
                channel_rows = (await conn.execute(select(channels))).mappings().all()
            channel_list = [channel_entry(dict(row)) for row in channel_rows]
            snapshot = snapshot_of_tables(version, token_table, user_table, channel_list, self.ctx.options.values)
            pending = self.sink.pending
            self.engine.ledger.reseed(snapshot, pending.token_spent, pending.user_spent, pending.user_used)
            self.snapshot_applied = dict(self.applied)  # read with the rows, under the same lock
            if self.counters is not None:
                # Seeded and corrected before the snapshot is published: slaves meet live counters.
                self.counters.observe(snapshot)
                await self.counters.sync(self._unsettled())
            self.engine.install(snapshot)

    def _unsettled(self) -> DeltaBatch:
        """What the database does not hold yet: settled but unflushed quota, plus the
        reservations of requests running on this node."""
        ledger, pending = self.engine.ledger, self.sink.pending
        view = DeltaBatch()
        for target, parts in (
            (view.token_spent, (pending.token_spent, ledger.inflight_tokens)),
            (view.user_spent, (pending.user_spent, ledger.inflight_users)),
        ):
            for part in parts:
                for key, amount in part.items():
                    target[key] = target.get(key, 0) + amount
        return view

    async def sync_counters(self) -> None:
        assert self.counters is not None
        async with self.lock:
            await self.counters.sync(self._unsettled())

    async def _flush_loop(self) -> None:
        settings = self.ctx.settings
        while True:
            if settings.batch_update_enabled:
                try:
                    await asyncio.wait_for(self.sink.full.wait(), max(settings.batch_update_interval, 1))
                except TimeoutError:
                    pass
                self.sink.full.clear()
            else:
                await self.sink.wake.wait()
            try:
                await self.flush()
            except Exception:
                log.exception("quota flush failed; the batch is kept and retried")
                await asyncio.sleep(1)
            await self.trimmer.after_batch()

    async def flush(self) -> None:
        """Write what is pending in one transaction; on failure put it back for the next try."""
        async with self.lock:
            self.sink.wake.clear()
            batch = self.sink.pending
            if batch.empty():
                return
            self.sink.pending = DeltaBatch()
            try:
                await self._apply(batch)
            except Exception:
                self._restore(batch)
                raise
            if self.counters is not None:
                self.counters.note_applied(batch)
            if self.on_channel_disabled is not None:
                for channel_id, (_status, reason) in batch.channel_status.items():
                    self.on_channel_disabled(channel_id, reason)
            if batch.logs:
                try:
                    async with self.ctx.store.logs.begin() as conn:
                        await insert_rows(conn, logs, batch.logs)
                except Exception:
                    self._restore(DeltaBatch(logs=batch.logs))  # the quota part is committed already
                    raise
            changed = bool(batch.channel_status or batch.token_status)
        if changed:
            await self.ctx.changed("relay")

    def _restore(self, batch: DeltaBatch) -> None:
        """Merge an unwritten batch back in front of what arrived meanwhile."""
        newer = self.sink.pending
        merged = DeltaBatch()
        for part in (batch, newer):
            for field in ("token_spent", "user_spent", "user_used", "user_requests", "channel_used"):
                target = getattr(merged, field)
                for key, value in getattr(part, field).items():
                    target[key] = target.get(key, 0) + value
            merged.token_status.update(part.token_status)
            merged.channel_status.update(part.channel_status)
            merged.logs.extend(part.logs)
        self.sink.pending = merged

    async def _load_applied(self) -> None:
        """Each node's newest applied batch; older rows (left by earlier versions) are pruned."""
        async with self.ctx.store.main.begin() as conn:
            ids = (await conn.execute(select(applied_batches.c.id))).scalars().all()
            stale = []
            for batch_id in ids:
                parsed = parse_batch_id(batch_id)
                if parsed is None:
                    continue
                node, seq = parsed
                if seq > self.applied.get(node, 0):
                    if node in self.applied_ids:
                        stale.append(self.applied_ids[node])
                    self.applied[node], self.applied_ids[node] = seq, batch_id
                else:
                    stale.append(batch_id)
            for start in range(0, len(stale), 500):
                await conn.execute(delete(applied_batches).where(applied_batches.c.id.in_(stale[start : start + 500])))

    async def apply_remote(self, batch_id: str, batch: DeltaBatch) -> bool:
        """Apply a slave's batch exactly once: its id is recorded in the same transaction as its
        deltas (and its log rows, when the logs share the main database). False: a duplicate."""
        parsed = parse_batch_id(batch_id)
        if self._resent(parsed):
            return False
        store = self.ctx.store
        shared_logs = bool(batch.logs) and store.logs is store.main
        if shared_logs and store.dialect != "sqlite" and self._logs_slots is not None:
            applied = await self._apply_logs_first(batch_id, parsed, batch, self._logs_slots)
        else:
            async with self.lock, store.main.connect() as conn, conn.begin() as transaction:
                applied = await self._commit_batch(conn, transaction, batch_id, parsed, batch, shared_logs)
        if applied and batch.logs and not shared_logs:
            # A separate log database cannot share the transaction: rows follow the commit.
            async with store.logs.begin() as conn:
                await insert_rows(conn, logs, batch.logs)
        return applied

    async def _apply_logs_first(self, batch_id: str, parsed: tuple[str, int] | None, batch: DeltaBatch, slots: asyncio.Semaphore) -> bool:
        """apply_remote with the log rows written before the lock, in the same transaction: only
        the balances need the lock (the change feed reads them with `applied`), so batches write
        their log rows while another writes its balances or the feed steps. A slot is held until
        the lock is taken: the lock's holder always finds a connection in the pool."""
        await slots.acquire()
        waiting = True
        try:
            async with self.ctx.store.main.connect() as conn, conn.begin() as transaction:
                await insert_rows(conn, logs, batch.logs)
                async with self.lock:
                    slots.release()
                    waiting = False
                    return await self._commit_batch(conn, transaction, batch_id, parsed, batch, False)
        finally:
            if waiting:
                slots.release()

    async def _commit_batch(
        self,
        conn: AsyncConnection,
        transaction: AsyncTransaction,
        batch_id: str,
        parsed: tuple[str, int] | None,
        batch: DeltaBatch,
        logs_too: bool,
    ) -> bool:
        """Under the lock: record the batch, write its deltas (and its log rows with `logs_too`)
        and commit; False, with everything rolled back, for a resend."""
        if self._resent(parsed) or not await self._record(conn, batch_id, parsed):
            await transaction.rollback()
            return False
        await self._apply_rows(conn, batch)
        if logs_too:
            await insert_rows(conn, logs, batch.logs)
        await transaction.commit()  # under the lock: the feed reads balances and `applied` together
        if self.counters is not None:
            self.counters.note_applied(batch)  # committed; its deltas are in the counters already
        if parsed is not None:
            self.applied[parsed[0]], self.applied_ids[parsed[0]] = parsed[1], batch_id
        return True

    def _resent(self, parsed: tuple[str, int] | None) -> bool:
        # A slave ships its batches in sequence order, each once acknowledged, and renumbers above
        # what the master has seen: a sequence at or below the newest applied one is a resend.
        # So one row per node (its newest batch) is all the bookkeeping kept.
        return parsed is not None and parsed[1] <= self.applied.get(parsed[0], 0)

    async def _record(self, conn: AsyncConnection, batch_id: str, parsed: tuple[str, int] | None) -> bool:
        """Note `batch_id` as applied (replacing its node's previous row); False when it already is."""
        seen = await conn.execute(select(applied_batches.c.id).where(applied_batches.c.id == batch_id))
        if seen.first() is not None:
            return False
        await conn.execute(insert(applied_batches).values(id=batch_id, applied_at=int(time.time())))
        previous = self.applied_ids.get(parsed[0]) if parsed is not None else None
        if previous is not None:
            await conn.execute(delete(applied_batches).where(applied_batches.c.id == previous))
        return True

    async def _apply(self, batch: DeltaBatch) -> None:
        async with self.ctx.store.main.begin() as conn:
            await self._apply_rows(conn, batch)

    async def _apply_rows(self, conn: AsyncConnection, batch: DeltaBatch) -> None:
        """The batch's sums in one statement per table (master.db.bulk); the rare status marks one by one."""
        await add_by_id(
            conn,
            tokens,
            ("remain_quota", "used_quota"),
            [(token_id, -spent, spent) for token_id, spent in batch.token_spent.items()],
            fixed={"accessed_time": int(time.time())},
        )
        user_ids = set(batch.user_spent) | set(batch.user_used) | set(batch.user_requests)
        await add_by_id(
            conn,
            users,
            ("quota", "used_quota", "request_count"),
            [
                (user_id, -batch.user_spent.get(user_id, 0), batch.user_used.get(user_id, 0), batch.user_requests.get(user_id, 0))
                for user_id in user_ids
            ],
        )
        await add_by_id(conn, channels, ("used_quota",), list(batch.channel_used.items()))
        for token_id, status in batch.token_status.items():
            await conn.execute(update(tokens).where(tokens.c.id == token_id, tokens.c.status == 1).values(status=status))
        for channel_id, (status, reason) in batch.channel_status.items():
            await conn.execute(update(channels).where(channels.c.id == channel_id).values(status=status))
            await conn.execute(update(abilities).where(abilities.c.channel_id == channel_id).values(enabled=False))
            log.warning("channel disabled", channel_id=channel_id, reason=reason)


PAGE_ROWS = 10_000


async def _paged(conn: AsyncConnection, table: Any) -> AsyncIterator[Mapping[Any, Any]]:
    """Every row of `table` by ascending id, PAGE_ROWS per query (keyset paging: each page is an
    index range scan, whatever the table's size)."""
    last = None
    while True:
        query = select(table).order_by(table.c.id).limit(PAGE_ROWS)
        if last is not None:
            query = query.where(table.c.id > last)
        page = (await conn.execute(query)).mappings().all()
        for row in page:
            yield row
        if len(page) < PAGE_ROWS:
            return
        last = page[-1]["id"]
