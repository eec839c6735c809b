"""Fleet-wide balances: reserve and settle against per-token and per-user counters in Redis.

Keys: `oneapi:q:t:<token id>` (the token's remain_quota) and `oneapi:q:u:<user id>` (the user's
quota), plain integers. Two Lua scripts, one round trip each on the hot path:

- RESERVE checks the token (only when limited) and the user, and either refuses naming the side that
  does not cover the amount or DECRBYs both. Atomic in Redis, so every node of the fleet shares one
  balance and parallel requests on any mix of nodes never spend more than it holds.
- SHIFT subtracts an amount from each existing counter unconditionally (settle deltas, unchecked
  charges, replays, the master's admin corrections). Neither script ever creates a key: only the
  master seeds counters (master.quota_counters), so a counter can never start from a node's guess.

The invariant, per counter: counter = database value − every spend delta already applied to the
counter but not yet to the database (the master's unflushed sink, slaves' unshipped or unapplied
batches). It holds because
- a node applies each delta to the counter (reserve, settle) and hands the same delta to its quota
  sink with no await in between; applying the batch to the database later never touches Redis;
- the master seeds a missing counter with `SET NX` from the database value minus its own pending
  deltas, and turns every other change of a balance (admin edits, top-ups, redemptions) into an
  INCRBY of the difference, so reservations in flight stay counted (master.quota_counters).

When Redis does not answer (or a counter is missing) a node fails open to its local `Ledger` (the
snapshot minus its own pending deltas: the bound README states for a fleet without Redis), so relaying
continues, and it keeps the deltas it could not apply as `owed`, replayed into the counters once
Redis answers again. A replay can count a delta twice (only after Redis lost its data and the master
re-seeded a counter from a database that already held it): that errs toward refusing, never toward
overspending.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Iterable, Mapping

from redis.asyncio import BlockingConnectionPool, Redis
from redis.commands.core import AsyncScript
from redis.exceptions import RedisError

from shared.logs import get_logger
from shared.relay.ledger import Ledger, QuotaRefused, Reservation
from shared.snapshot import Snapshot

log = get_logger(__name__)

RETRY_AFTER = 1.0  # seconds the hot path skips Redis after a failure (no timeout per request)
ERRORS = (RedisError, OSError, asyncio.TimeoutError)

RESERVE = """
local amount = tonumber(ARGV[1])
local limited = ARGV[2] == '1'
local user = redis.call('GET', KEYS[2])
if not user then return {4, 0, 0} end
user = tonumber(user)
local token = 0
if limited then
  token = redis.call('GET', KEYS[1])
  if not token then return {3, 0, user} end
  token = tonumber(token)
end
if amount > 0 then
  if limited and token < amount then return {1, token, user} end
  if user < amount then return {2, token, user} end
end
if limited then token = redis.call('DECRBY', KEYS[1], amount) end
user = redis.call('DECRBY', KEYS[2], amount)
return {0, token, user}
"""

# Per key: {1, new value} when the counter exists (and was shifted), {0, 0} when it is missing.
SHIFT = """
local out = {}
for i, key in ipairs(KEYS) do
  if redis.call('EXISTS', key) == 1 then
    out[#out + 1] = 1
    out[#out + 1] = redis.call('DECRBY', key, ARGV[i])
  else
    out[#out + 1] = 0
    out[#out + 1] = 0
  end
end
return out
"""

_OK, _TOKEN_SHORT, _USER_SHORT = 0, 1, 2
POOL_SIZE = 32


def connect(url: str) -> Redis:
    """The client for the counters: a bounded pool that makes a burst wait for a connection (a
    plain pool refuses past its size, which would push requests onto the local fallback), and
    short timeouts so an outage costs a request at most about two seconds before it fails open
    (then RETRY_AFTER spares the requests that follow)."""
    pool = BlockingConnectionPool.from_url(url, max_connections=POOL_SIZE, timeout=5, socket_timeout=2, socket_connect_timeout=2)
    return Redis.from_pool(pool)


def token_key(token_id: int) -> str:
    return f"oneapi:q:t:{token_id}"


def user_key(user_id: int) -> str:
    return f"oneapi:q:u:{user_id}"


def scripts() -> tuple[AsyncScript, AsyncScript]:
    """(reserve, shift): run with EVALSHA (loaded on the first NOSCRIPT) on the client each call
    passes, so a ledger can be pointed at another client (tests swap a dead one for a live one)."""
    return AsyncScript(None, RESERVE.encode()), AsyncScript(None, SHIFT.encode())  # type: ignore[arg-type]


async def shift(redis: Redis, script: AsyncScript, amounts: Mapping[str, int]) -> dict[str, int | None]:
    """Subtract each amount from its existing counter; key -> new value, None when missing."""
    keys = list(amounts)
    out = await script(keys=keys, args=[amounts[k] for k in keys], client=redis)
    return {key: (int(out[2 * i + 1]) if out[2 * i] else None) for i, key in enumerate(keys)}


class RedisLedger(Ledger):
    """A Ledger whose reserve/adjust/charge go to the fleet's Redis counters.

    The inherited dicts stay a local cache: refreshed from every script result (and by `reseed`),
    read by the auth check and the billing routes without a round trip, and the fallback ledger
    while Redis is down."""

    def __init__(self, redis: Redis) -> None:
        super().__init__()
        self.redis = redis
        self._reserve, self._shift = scripts()
        self.owed_tokens: dict[int, int] = {}  # spent here, not yet applied to the counters
        self.owed_users: dict[int, int] = {}
        self._down_until = 0.0
        self._next_replay = 0.0
        self._replaying: asyncio.Task[None] | None = None

    def reseed(
        self,
        snapshot: Snapshot,
        pending_tokens: Mapping[int, int],
        pending_users: Mapping[int, int],
        pending_used: Mapping[int, int] | None = None,
    ) -> None:
        super().reseed(snapshot, pending_tokens, pending_users, pending_used)
        # Deleted tokens and users have no counter to replay into.
        self.owed_tokens = {k: v for k, v in self.owed_tokens.items() if k in snapshot.tokens_by_id}
        self.owed_users = {k: v for k, v in self.owed_users.items() if k in snapshot.users}

    def forget(self, gone_tokens: Iterable[int], gone_users: Iterable[int]) -> None:
        for token_id in gone_tokens:
            self.owed_tokens.pop(token_id, None)
        for user_id in gone_users:
            self.owed_users.pop(user_id, None)

    async def reserve(self, token_id: int, user_id: int, token_limited: bool, amount: int) -> Reservation:
        if self._usable():
            try:
                code, token, user = await self._reserve(
                    keys=[token_key(token_id), user_key(user_id)], args=[amount, int(token_limited)], client=self.redis
                )
            except ERRORS as exc:
                self._failed(exc)
            else:
                if code in (_OK, _TOKEN_SHORT, _USER_SHORT):
                    if token_limited:
                        self.token_remain[token_id] = int(token)
                    self.user_quota[user_id] = int(user)
                    if code == _TOKEN_SHORT:
                        raise QuotaRefused("token")
                    if code == _USER_SHORT:
                        raise QuotaRefused("user")
                    if token_limited:
                        self.token_used[token_id] = self.token_used.get(token_id, 0) + amount
                    self._maybe_replay()
                    reservation = Reservation(token_id, user_id, token_limited, amount)
                    self.hold(reservation, 1)
                    return reservation
                log.warning("quota counter missing in Redis; reserving locally", token_id=token_id, user_id=user_id)
        reservation = await super().reserve(token_id, user_id, token_limited, amount)
        self._owe(token_id, user_id, token_limited, amount)
        return reservation

    async def adjust(self, reservation: Reservation, final: int) -> int:
        if reservation.settled:
            return 0
        reservation.settled = True
        self.hold(reservation, -1)
        delta = final - reservation.amount
        await self._debit(reservation.token_id, reservation.user_id, reservation.token_limited, delta)
        return delta

    async def charge(self, token_id: int, user_id: int, token_limited: bool, amount: int) -> None:
        await self._debit(token_id, user_id, token_limited, amount)

    async def _debit(self, token_id: int, user_id: int, token_limited: bool, amount: int) -> None:
        """Subtract `amount` (may be negative: a refund) unconditionally."""
        if amount == 0:
            return
        if self._usable():
            keys = {user_key(user_id): amount}
            if token_limited:
                keys[token_key(token_id)] = amount
            try:
                values = await shift(self.redis, self._shift, keys)
            except ERRORS as exc:
                self._failed(exc)
            else:
                # A counter found missing is settled locally and owed, like a Redis outage.
                user = values[user_key(user_id)]
                if user is None:
                    self.user_quota[user_id] = self.user_quota.get(user_id, 0) - amount
                    self.owed_users[user_id] = self.owed_users.get(user_id, 0) + amount
                else:
                    self.user_quota[user_id] = user
                if token_limited:
                    token = values[token_key(token_id)]
                    if token is None:
                        self.token_remain[token_id] = self.token_remain.get(token_id, 0) - amount
                        self.owed_tokens[token_id] = self.owed_tokens.get(token_id, 0) + amount
                    else:
                        self.token_remain[token_id] = token
                    self.token_used[token_id] = self.token_used.get(token_id, 0) + amount
                self._maybe_replay()
                return
        self._apply(token_id, user_id, token_limited, amount)
        self._owe(token_id, user_id, token_limited, amount)

    # -- Redis health and owed deltas ------------------------------------------------------------

    def _usable(self) -> bool:
        return time.monotonic() >= self._down_until

    def _failed(self, exc: BaseException) -> None:
        if self._usable():
            log.warning("Redis quota counters unreachable; relaying on local balances", error=str(exc) or type(exc).__name__)
        self._down_until = time.monotonic() + RETRY_AFTER

    def _owe(self, token_id: int, user_id: int, token_limited: bool, amount: int) -> None:
        if amount == 0:
            return
        if token_limited:
            self.owed_tokens[token_id] = self.owed_tokens.get(token_id, 0) + amount
        self.owed_users[user_id] = self.owed_users.get(user_id, 0) + amount

    def _maybe_replay(self) -> None:
        """Redis answered: replay what it missed, at most once per RETRY_AFTER, off the request."""
        if not (self.owed_tokens or self.owed_users) or self._replaying is not None:
            return
        now = time.monotonic()
        if now < self._next_replay:
            return
        self._next_replay = now + RETRY_AFTER
        self._replaying = asyncio.get_running_loop().create_task(self.replay(), name="quota-owed-replay")

    async def replay(self) -> None:
        """Apply owed deltas to existing counters; keep the rest (and everything on failure)."""
        tokens, users = self.owed_tokens, self.owed_users
        self.owed_tokens, self.owed_users = {}, {}
        amounts = {token_key(k): v for k, v in tokens.items() if v}
        amounts.update({user_key(k): v for k, v in users.items() if v})
        try:
            if amounts:
                values = await shift(self.redis, self._shift, amounts)
                tokens = {k: v for k, v in tokens.items() if values.get(token_key(k)) is None}
                users = {k: v for k, v in users.items() if values.get(user_key(k)) is None}
                log.info("owed quota replayed into Redis", counters=len(amounts) - len(tokens) - len(users))
            else:
                tokens, users = {}, {}
        except ERRORS as exc:
            self._failed(exc)
        finally:
            for owed, back in ((self.owed_tokens, tokens), (self.owed_users, users)):
                for k, v in back.items():
                    owed[k] = owed.get(k, 0) + v
            self._replaying = None
