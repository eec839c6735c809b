"""Fleet-wide rate-limit windows in Redis: one Lua script checks and counts a request for every
subject that limits it (one round trip), another releases it at the end.

Keys per subject (`t:<token id>` or `u:<user id>`):
- `oneapi:rl:<subject>:r` hash, epoch second -> requests admitted in that second;
- `oneapi:rl:<subject>:k` hash, epoch second -> tokens counted in that second;
- `oneapi:rl:<subject>:p` sorted set, admission id -> lease deadline (ms): the running requests.
A hash holds at most the 60 seconds of the window (older fields are pruned on every check), and
every key expires on its own, so idle subjects leave nothing behind. Time is Redis's own clock, so
all nodes share one window edge. A slot whose node died without releasing it expires after its lease.

When Redis does not answer, `admit` returns None and the caller counts on this node alone; a
failed release is left to the lease.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Sequence

from redis.asyncio import Redis
from redis.commands.core import AsyncScript
from redis.exceptions import RedisError

from shared.logs import get_logger
from shared.relay.ratelimit import PARALLEL, RPM, TPM, WINDOW, Subject, Verdict, WindowStats

log = get_logger(__name__)

ERRORS = (RedisError, OSError, asyncio.TimeoutError)
RETRY_AFTER = 1.0  # seconds the hot path skips Redis after a failure

# KEYS: per subject r, k, p. ARGV: id, tokens, lease ms, window s, then per subject rpm, tpm, parallel.
# Returns {refused subject (1-based, 0 = admitted), refused kind (1 rpm, 2 tpm, 3 parallel), now ms,
#          then per subject requests, oldest, newest, tokens, oldest, newest, running}.
ADMIT = """
local t = redis.call('TIME')
local sec = tonumber(t[1])
local now = sec * 1000 + math.floor(tonumber(t[2]) / 1000)
local id, tokens, lease, span = ARGV[1], tonumber(ARGV[2]), tonumber(ARGV[3]), tonumber(ARGV[4])
local n = #KEYS / 3
local function window(key)
  local flat = redis.call('HGETALL', key)
  local sum, oldest, newest = 0, 0, 0
  for i = 1, #flat, 2 do
    local s = tonumber(flat[i])
    if s <= sec - span then
      redis.call('HDEL', key, flat[i])
    else
      sum = sum + tonumber(flat[i + 1])
      if oldest == 0 or s < oldest then oldest = s end
      if s > newest then newest = s end
    end
  end
  return sum, oldest, newest
end
local out = {0, 0, now}
for i = 1, n do
  local rpm, tpm, par = tonumber(ARGV[2 + 3 * i]), tonumber(ARGV[3 + 3 * i]), tonumber(ARGV[4 + 3 * i])
  local r, ro, rn, k, ko, kn, p = 0, 0, 0, 0, 0, 0, 0
  if rpm > 0 then r, ro, rn = window(KEYS[3 * i - 2]) end
  if tpm > 0 then k, ko, kn = window(KEYS[3 * i - 1]) end
  if par > 0 then
    redis.call('ZREMRANGEBYSCORE', KEYS[3 * i], '-inf', now)
    p = redis.call('ZCARD', KEYS[3 * i])
  end
  if out[1] == 0 then
    if rpm > 0 and r + 1 > rpm then out[1], out[2] = i, 1
    elseif tpm > 0 and k + tokens > tpm then out[1], out[2] = i, 2
    elseif par > 0 and p >= par then out[1], out[2] = i, 3 end
  end
  for _, v in ipairs({r, ro, rn, k, ko, kn, p}) do out[#out + 1] = v end
end
if out[1] == 0 then
  for i = 1, n do
    local rpm, tpm, par = tonumber(ARGV[2 + 3 * i]), tonumber(ARGV[3 + 3 * i]), tonumber(ARGV[4 + 3 * i])
    if rpm > 0 then
      redis.call('HINCRBY', KEYS[3 * i - 2], sec, 1)
      redis.call('EXPIRE', KEYS[3 * i - 2], span + 1)
    end
    if tpm > 0 then
      redis.call('HINCRBY', KEYS[3 * i - 1], sec, tokens)
      redis.call('EXPIRE', KEYS[3 * i - 1], span + 1)
    end
    if par > 0 then
      redis.call('ZADD', KEYS[3 * i], now + lease, id)
      redis.call('PEXPIRE', KEYS[3 * i], lease + 1000)
    end
  end
end
return out
"""

# KEYS: per subject k, p. ARGV: id, bucket second, token delta, then per subject tpm flag, parallel flag.
FINISH = """
local id, sec, delta = ARGV[1], ARGV[2], tonumber(ARGV[3])
for i = 1, #KEYS / 2 do
  if ARGV[2 + 2 * i] == '1' and delta ~= 0 and redis.call('HEXISTS', KEYS[2 * i - 1], sec) == 1 then
    redis.call('HINCRBY', KEYS[2 * i - 1], sec, delta)
  end
  if ARGV[3 + 2 * i] == '1' then redis.call('ZREM', KEYS[2 * i], id) end
end
return 1
"""

_KINDS = {1: RPM, 2: TPM, 3: PARALLEL}


def keys_of(subject: Subject) -> tuple[str, str, str]:
    base = f"oneapi:rl:{subject.key}"
    return f"{base}:r", f"{base}:k", f"{base}:p"


class RedisWindows:
    def __init__(self, redis: Redis) -> None:
        self.redis = redis
        self._admit = AsyncScript(None, ADMIT.encode())  # type: ignore[arg-type]
        self._finish = AsyncScript(None, FINISH.encode())  # type: ignore[arg-type]
        self._down_until = 0.0

    async def admit(self, subjects: Sequence[Subject], admission_id: str, tokens: int, lease: int) -> Verdict | None:
        if time.monotonic() < self._down_until:
            return None
        keys = [key for subject in subjects for key in keys_of(subject)]
        args: list[int | str] = [admission_id, tokens, lease * 1000, WINDOW]
        for subject in subjects:
            args += [subject.limits.rpm, subject.limits.tpm, subject.limits.parallel]
        try:
            out = await self._admit(keys=keys, args=args, client=self.redis)
        except ERRORS as exc:
            self._failed(exc)
            return None
        values = [int(v) for v in out]
        refused = (values[0] - 1, _KINDS[values[1]]) if values[0] else None
        stats = [WindowStats(*values[3 + 7 * i : 10 + 7 * i]) for i in range(len(subjects))]
        return Verdict(refused, stats, values[2])

    async def finish(self, subjects: Sequence[Subject], admission_id: str, second: int, token_delta: int, release: bool) -> None:
        keys: list[str] = []
        args: list[int | str] = [admission_id, second, token_delta]
        for subject in subjects:
            _, k, p = keys_of(subject)
            keys += [k, p]
            args += [int(bool(subject.limits.tpm)), int(bool(subject.limits.parallel) and release)]
        try:
            await self._finish(keys=keys, args=args, client=self.redis)
        except ERRORS as exc:
            self._failed(exc)  # the slot expires with its lease

    def _failed(self, exc: BaseException) -> None:
        if time.monotonic() >= self._down_until:
            log.warning("Redis rate-limit windows unreachable; limiting per node", error=str(exc) or type(exc).__name__)
        self._down_until = time.monotonic() + RETRY_AFTER
