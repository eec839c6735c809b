"""The master's side of the fleet's Redis quota counters (shared.relay.redis_ledger): it alone
seeds them and reconciles them with the database.

The invariant (see redis_ledger): counter = database value − spend deltas already in the counter but
not yet in the database. Nodes keep it on the hot path; this keeper keeps it for everything else:

- Seeding: a missing counter is set with `SET NX` to (database value − the master's own unflushed
  deltas): at start, and whenever the marker key `oneapi:q:seeded` is gone (Redis lost its data).
  A token or user created while the master runs is set outright (nothing can have spent from it).
- Batches: applying a delta batch (the master's own flush, or a slave's) to the database must not
  touch Redis, since its deltas are in the counters already; `note_applied` records them so that
- every other change of a balance is found when the change feed next reads that row (every write
  of a token or user logs it; the feed reads under the same lock as the batches, observe_changes):
  difference = database value now − (value at the previous read − batch deltas applied since).
  It is applied with an unconditional shift (INCRBY), never a SET, so reservations in flight stay
  counted. That catches admin edits of a token's remain_quota or a user's quota, top-ups,
  redemptions and invitation rewards alike, whichever code path wrote them.

What cannot be reached now (Redis down) stays queued and is retried every CHECK_INTERVAL seconds.
A counter re-seeded after Redis lost its data misses what slaves had spent through it but not yet
shipped at that moment: a one-time overspend of at most that much (README "The quota bound").
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Iterable, Mapping

from redis.asyncio import Redis

from shared.logs import get_logger
from shared.relay.redis_ledger import ERRORS, scripts, shift, token_key, user_key
from shared.relay.sink import DeltaBatch
from shared.snapshot import Snapshot

log = get_logger(__name__)

MARKER = "oneapi:q:seeded"
CHECK_INTERVAL = 1.0
CHUNK = 1000


class _Side:
    """One kind of counter (tokens or users): what the master knows about its balances."""

    def __init__(self, key: Callable[[int], str]) -> None:
        self.key = key
        self.known: dict[int, int] = {}  # database value at the last rebuild
        self.applied: dict[int, int] = {}  # batch spend written to the database since
        self.shifts: dict[int, int] = {}  # amounts to add to counters (admin changes), not yet sent
        self.fresh: set[int] = set()  # created since the last rebuild: SET outright
        self.gone: set[int] = set()  # deleted: DEL

    def observe(self, now: Mapping[int, int], first: bool) -> None:
        for i, value in now.items():
            if i in self.known:
                diff = value - (self.known[i] - self.applied.get(i, 0))
                if diff:
                    self.shifts[i] = self.shifts.get(i, 0) + diff
            elif not first:
                self.fresh.add(i)
        for i in self.known.keys() - now.keys():
            self.gone.add(i)
            self.shifts.pop(i, None)
            self.fresh.discard(i)
        self.known = dict(now)
        self.applied = {}

    def observe_rows(self, now: Mapping[int, int], gone: Iterable[int]) -> None:
        """`observe` for the rows of one change set: the rest of `known` is unchanged."""
        for i, value in now.items():
            if i in self.known:
                diff = value - (self.known[i] - self.applied.pop(i, 0))
                if diff:
                    self.shifts[i] = self.shifts.get(i, 0) + diff
            else:
                self.fresh.add(i)
            self.known[i] = value
        for i in gone:
            if self.known.pop(i, None) is not None:
                self.gone.add(i)
                self.applied.pop(i, None)
                self.shifts.pop(i, None)
                self.fresh.discard(i)

    def value(self, i: int, pending: Mapping[int, int]) -> int:
        """The counter's right value: the database's now minus the master's unflushed deltas."""
        return self.known[i] - self.applied.get(i, 0) - pending.get(i, 0)


class CounterKeeper:
    def __init__(self, redis: Redis) -> None:
        self.redis = redis
        self.tokens = _Side(token_key)
        self.users = _Side(user_key)
        self.full_seed = True
        self._first = True
        self._shift = scripts()[1]

    def note_applied(self, batch: DeltaBatch) -> None:
        """A batch was committed to the database (call under the host lock, after the commit)."""
        for side, spent in ((self.tokens, batch.token_spent), (self.users, batch.user_spent)):
            for i, amount in spent.items():
                side.applied[i] = side.applied.get(i, 0) + amount

    def observe(self, snapshot: Snapshot) -> None:
        """A rebuild read the database (under the host lock): queue what changed outside batches."""
        tokens, users = snapshot.tokens_by_id.table, snapshot.users.table
        self.tokens.observe({tokens.ids[r]: tokens.remain[r] for r in tokens.live_rows()}, self._first)
        self.users.observe({users.ids[r]: users.quota[r] for r in users.live_rows()}, self._first)
        self._first = False

    def observe_changes(
        self, tokens: Mapping[int, int], users: Mapping[int, int], gone_tokens: Iterable[int], gone_users: Iterable[int]
    ) -> None:
        """The change feed read these rows (under the host lock, with every batch applied before
        the read noted): queue what changed outside batches, for these rows only."""
        self.tokens.observe_rows(tokens, gone_tokens)
        self.users.observe_rows(users, gone_users)
        self._first = False

    async def sync(self, pending: DeltaBatch) -> None:
        """Send what is queued (call under the host lock); on a Redis error keep it for next time."""
        sides = ((self.tokens, pending.token_spent), (self.users, pending.user_spent))
        try:
            if any(side.gone for side, _ in sides):
                await self.redis.delete(*[side.key(i) for side, _ in sides for i in side.gone])
                for side, _ in sides:
                    side.gone.clear()
            fresh = {side.key(i): side.value(i, p) for side, p in sides for i in side.fresh}
            if fresh:
                await self.redis.mset(fresh)
                for side, _ in sides:
                    side.fresh.clear()
            await self._send_shifts()
            if self.full_seed:
                await self._seed_missing(sides)
        except ERRORS as exc:
            log.warning("quota counters not reconciled with Redis; retrying", error=str(exc) or type(exc).__name__)

    async def _send_shifts(self) -> None:
        # SHIFT subtracts: an increase of the balance is a negative amount.
        amounts = {side.key(i): -d for side in (self.tokens, self.users) for i, d in side.shifts.items() if d}
        if not amounts:
            return
        values = await shift(self.redis, self._shift, amounts)
        for side in (self.tokens, self.users):
            side.shifts.clear()
        if any(v is None for v in values.values()):
            self.full_seed = True  # a missing counter is seeded from the database, which has the change

    async def _seed_missing(self, sides: tuple[tuple[_Side, Mapping[int, int]], ...]) -> None:
        # Values first, with no await: they must match the database and the pending deltas together.
        values = [(side.key(i), side.value(i, p)) for side, p in sides for i in side.known]
        seeded = 0
        for start in range(0, len(values), CHUNK):
            async with self.redis.pipeline(transaction=False) as pipe:
                for key, value in values[start : start + CHUNK]:
                    pipe.set(key, value, nx=True)
                seeded += sum(1 for ok in await pipe.execute() if ok)
        await self.redis.set(MARKER, "1")
        self.full_seed = False
        if seeded:
            log.info("quota counters seeded in Redis", seeded=seeded, total=len(values))

    async def check(self) -> bool:
        """True when Redis lost the counters (the marker is gone) and a full seed is due."""
        try:
            if not await self.redis.exists(MARKER):
                self.full_seed = True
        except ERRORS:
            log.debug("Redis unreachable; the counters are checked again next round")
        return self.full_seed or any(s.shifts or s.fresh or s.gone for s in (self.tokens, self.users))

    async def run(self, locked_sync: Callable[[], Awaitable[None]]) -> None:
        """Every CHECK_INTERVAL: re-seed after a data loss, retry what Redis did not take."""
        while True:
            await asyncio.sleep(CHECK_INTERVAL)
            if await self.check():
                await locked_sync()
