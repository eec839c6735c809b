"""Live token and user balances: reserve before the upstream call, settle after it.

One process's event loop makes each reserve atomic (no await between the check and the debit), so
N parallel requests never spend more than a balance holds on this node. reserve/adjust/charge are
coroutines so that `RedisLedger` (shared.relay.redis_ledger) can share the interface; here they
never suspend. The balances are the
snapshot's values plus every delta this node made that the database (or the master) has not yet
absorbed; whoever builds snapshots re-seeds the ledger with `reseed` under the same lock as its
flushes, so a delta is never counted twice or lost. Fleet-wide enforcement across processes:
`RedisLedger`, used when REDIS_CONN_STRING is set.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass

from shared.snapshot import Snapshot, TokenEntry, UserEntry
from shared.tables import TokenTable, UserTable


@dataclass(slots=True)
class Reservation:
    token_id: int
    user_id: int
    token_limited: bool
    amount: int
    settled: bool = False  # settling twice is a no-op, so every exit path may settle


class QuotaRefused(Exception):
    """The reservation does not fit; `which` is "token" or "user"."""

    def __init__(self, which: str) -> None:
        super().__init__(which)
        self.which = which


class Balances:
    """One balance per id, dict-like: the snapshot's value (`base`, None for an id it lacks)
    corrected by what this node knows better (`offsets`: spent here, held by running requests, or
    read from the fleet's counters). Only ids with an offset cost memory, so the ledger grows with
    the tokens in use, not with the install."""

    __slots__ = ("base", "offsets")

    def __init__(self, base: Callable[[int], int | None] = lambda _i: None) -> None:
        self.base = base
        self.offsets: dict[int, int] = {}

    def get(self, ident: int, default: int = 0) -> int:
        offset = self.offsets.get(ident)
        base = self.base(ident)
        if base is None:
            return default if offset is None else offset
        return base + (offset or 0)

    def __getitem__(self, ident: int) -> int:
        value = self.get(ident, None)  # type: ignore[arg-type]
        if value is None:
            raise KeyError(ident)
        return value

    def __setitem__(self, ident: int, value: int) -> None:
        base = self.base(ident)
        offset = value - (base or 0)
        if offset or base is None:
            self.offsets[ident] = offset  # an id only this node knows keeps even a zero balance
        else:
            self.offsets.pop(ident, None)

    def add(self, ident: int, amount: int) -> None:
        """balance += amount, without reading the base (the hot path's debit and credit)."""
        self.offsets[ident] = self.offsets.get(ident, 0) + amount

    def __contains__(self, ident: object) -> bool:
        return ident in self.offsets or (isinstance(ident, int) and self.base(ident) is not None)

    def pop(self, ident: int, default: int | None = None) -> int | None:
        value = self.get(ident, default)  # type: ignore[arg-type]
        self.offsets.pop(ident, None)
        return value

    def reset(self, base: Callable[[int], int | None], offsets: dict[int, int]) -> None:
        self.base = base
        self.offsets = {i: v for i, v in offsets.items() if v}


class Ledger:
    def __init__(self) -> None:
        # Balances over the snapshot's tables (reseed points them there); `token_used` and
        # `user_used` are the live used_quota the billing routes show.
        self.token_remain = Balances()
        self.token_used = Balances()
        self.user_quota = Balances()
        self.user_used = Balances()
        # Reservations of requests still running: held against the balances but never shipped
        # anywhere, so a node that dies mid-request leaves nothing to bill.
        self.inflight_tokens: dict[int, int] = {}
        self.inflight_users: dict[int, int] = {}

    def reseed(
        self,
        snapshot: Snapshot,
        pending_tokens: Mapping[int, int],
        pending_users: Mapping[int, int],
        pending_used: Mapping[int, int] | None = None,
    ) -> None:
        """Balances = snapshot values minus what was settled here but is not yet in the snapshot,
        minus what running requests hold: O(pending + running), whatever the install's size.

        `pending_*` map an id to the settled quota not yet in the snapshot;
        `pending_used` the settled quota (users.used_quota) not yet in the snapshot."""
        tokens, users = snapshot.tokens_by_id.table, snapshot.users.table
        held_t, held_u = self.inflight_tokens, self.inflight_users
        token_spent = _sum(pending_tokens, held_t)
        user_spent = _sum(pending_users, held_u)
        self.token_remain.reset(_column(tokens, "remain"), {i: -v for i, v in token_spent.items()})
        self.token_used.reset(_column(tokens, "used"), token_spent)
        self.user_quota.reset(_column(users, "quota"), {i: -v for i, v in user_spent.items()})
        self.user_used.reset(_column(users, "used"), dict(pending_used or {}))

    def refresh(
        self,
        tokens: Iterable[TokenEntry],
        users: Iterable[UserEntry],
        gone_tokens: Iterable[int],
        gone_users: Iterable[int],
        pending_tokens: Mapping[int, int],
        pending_users: Mapping[int, int],
        pending_used: Mapping[int, int] | None = None,
    ) -> None:
        """`reseed` for the rows of one change set only (already written to the snapshot's tables)."""
        used = pending_used or {}
        held_t, held_u = self.inflight_tokens, self.inflight_users
        for t in tokens:
            self.token_remain[t.id] = t.remain_quota - pending_tokens.get(t.id, 0) - held_t.get(t.id, 0)
            self.token_used[t.id] = t.used_quota + pending_tokens.get(t.id, 0) + held_t.get(t.id, 0)
        for u in users:
            self.user_used[u.id] = u.used_quota + used.get(u.id, 0)
            self.user_quota[u.id] = u.quota - pending_users.get(u.id, 0) - held_u.get(u.id, 0)
        for token_id in gone_tokens:
            self.token_remain.pop(token_id, None)
            self.token_used.pop(token_id, None)
        for user_id in gone_users:
            self.user_used.pop(user_id, None)
            self.user_quota.pop(user_id, None)
        self.forget(gone_tokens, gone_users)

    def forget(self, gone_tokens: Iterable[int], gone_users: Iterable[int]) -> None:
        """Deleted tokens and users (RedisLedger drops what it still owes them)."""

    def hold(self, reservation: Reservation, sign: int) -> None:
        """Count a reservation as running (sign 1) or finished (sign -1)."""
        if reservation.amount == 0:
            return
        amount = sign * reservation.amount
        if reservation.token_limited:
            _add(self.inflight_tokens, reservation.token_id, amount)
        _add(self.inflight_users, reservation.user_id, amount)

    def user_balance(self, user_id: int) -> int:
        return self.user_quota.get(user_id, 0)

    def token_balance(self, token_id: int) -> int:
        return self.token_remain.get(token_id, 0)

    def record_used(self, user_id: int, quota: int) -> None:
        """A settled request's cost, added to the user's used quota."""
        self.user_used.add(user_id, quota)

    async def reserve(self, token_id: int, user_id: int, token_limited: bool, amount: int) -> Reservation:
        """Debit `amount` from the token (if limited) and the user, or raise QuotaRefused."""
        if amount > 0:
            if token_limited and self.token_remain.get(token_id, 0) < amount:
                raise QuotaRefused("token")
            if self.user_quota.get(user_id, 0) < amount:
                raise QuotaRefused("user")
        self._apply(token_id, user_id, token_limited, amount)
        reservation = Reservation(token_id, user_id, token_limited, amount)
        self.hold(reservation, 1)
        return reservation

    async def extend(self, reservation: Reservation, amount: int) -> bool:
        """Grow a running reservation by `amount` with the same atomic check as `reserve` (so
        `RedisLedger` grows it in Redis); False, and nothing changed, when it does not fit."""
        if reservation.settled or amount <= 0:
            return False
        try:
            extra = await self.reserve(reservation.token_id, reservation.user_id, reservation.token_limited, amount)
        except QuotaRefused:
            return False
        # The extra amount is held as in flight; from now on `reservation` releases it when settled.
        extra.settled = True
        reservation.amount += amount
        return True

    async def adjust(self, reservation: Reservation, final: int) -> int:
        """Settle a reservation at `final`; returns the delta applied (final - reserved)."""
        if reservation.settled:
            return 0
        reservation.settled = True
        self.hold(reservation, -1)
        delta = final - reservation.amount
        self._apply(reservation.token_id, reservation.user_id, reservation.token_limited, delta)
        return delta

    async def charge(self, token_id: int, user_id: int, token_limited: bool, amount: int) -> None:
        """Debit without a check: for answers whose price is only known afterwards."""
        self._apply(token_id, user_id, token_limited, amount)

    def _apply(self, token_id: int, user_id: int, token_limited: bool, amount: int) -> None:
        if amount == 0:
            return
        if token_limited:
            self.token_remain.add(token_id, -amount)
            self.token_used.add(token_id, amount)
        self.user_quota.add(user_id, -amount)


def _add(sums: dict[int, int], key: int, amount: int) -> None:
    value = sums.get(key, 0) + amount
    if value:
        sums[key] = value
    else:
        sums.pop(key, None)


def _sum(*parts: Mapping[int, int]) -> dict[int, int]:
    out: dict[int, int] = {}
    for part in parts:
        for key, amount in part.items():
            out[key] = out.get(key, 0) + amount
    return out


def _column(table: TokenTable | UserTable, name: str) -> Callable[[int], int | None]:
    """The value of column `name` for an id, None when the table lacks it. Reads the table's
    current arrays each call (a compaction replaces them)."""

    def read(ident: int) -> int | None:
        row = table.by_id.get(ident)
        return None if row < 0 else getattr(table, name)[row]

    return read
