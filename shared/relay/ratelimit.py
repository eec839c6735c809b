"""Rate limits per token and per user: requests per minute, tokens per minute, parallel requests.

Limits come from the token and user rows (`rpm_limit`, `tpm_limit`, `max_parallel_requests`; 0 is
no limit) and from the `GroupRateLimits` option, a JSON map of group -> the same three fields that
applies to every user of the group; the tighter of a user's own limit and their group's wins.
The token and the user are two subjects with separate windows, and a request must fit both.

Windows are the last 60 seconds in one-second buckets (requests and tokens), so a window holds at
most 60 numbers per subject whatever the traffic. Parallel requests are held slots, released when
the request ends, whichever way it ends (RelayApp releases in a `finally`).

Tokens per minute are counted from the reservation (prompt + max_tokens, as estimated before the
upstream call) and corrected at settlement to what was used (prompt + completion); a request that
failed before any answer gives its tokens back.

With Redis (the quota ledger's connection) every window is shared by the fleet, checked and
updated by one Lua script per request (shared.relay.ratelimit_redis); without it, or while Redis
does not answer, each node keeps its own windows in memory (`LocalWindows`), so a fleet of N nodes
admits at most N times a limit.
"""

from __future__ import annotations

import math
import time
import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Protocol

import orjson
from starlette.types import Message, Send

from shared.limits import LIMIT_FIELDS, NO_LIMITS, Limits, limit_value_error, limits_of
from shared.relay.types import RelayError

if TYPE_CHECKING:
    from shared.relay.auth import Caller
    from shared.snapshot import Snapshot

WINDOW = 60  # seconds
SLOT_LEASE = 900  # seconds a fleet-wide parallel slot outlives a node that died holding it
IDLE_SWEEP = 60.0  # seconds between sweeps of idle in-memory windows
RPM, TPM, PARALLEL = "rpm", "tpm", "parallel"


def parse_group_limits(text: str) -> dict[str, Limits]:
    """The GroupRateLimits option: `{"group": {"rpm_limit": n, "tpm_limit": n, "max_parallel_requests": n}}`.
    Empty means none; raises ValueError with a readable reason for anything else that is not that."""
    if not text.strip():
        return {}
    try:
        data = orjson.loads(text)
    except orjson.JSONDecodeError as exc:
        raise ValueError(f"GroupRateLimits: invalid JSON: {exc}") from None
    if not isinstance(data, dict):
        raise ValueError("GroupRateLimits: must be a JSON object of group -> limits")
    out: dict[str, Limits] = {}
    for group, fields in data.items():
        if not isinstance(fields, dict):
            raise ValueError(f"GroupRateLimits: the limits of group {group!r} must be an object")
        for name, value in fields.items():
            if name not in LIMIT_FIELDS:
                raise ValueError(f"GroupRateLimits: unknown field {name!r} (known: {', '.join(LIMIT_FIELDS)})")
            problem = limit_value_error(name, value)
            if problem:
                raise ValueError(f"GroupRateLimits: group {group!r}: {problem}")
        out[str(group)] = limits_of(fields)
    return out


@dataclass(frozen=True, slots=True)
class Subject:
    key: str  # "t:<token id>" or "u:<user id>"
    label: str  # how an error names it
    limits: Limits


@dataclass(slots=True)
class WindowStats:
    """One subject's window as measured before this request (bucket seconds are epoch seconds)."""

    requests: int = 0
    requests_oldest: int = 0
    requests_newest: int = 0
    tokens: int = 0
    tokens_oldest: int = 0
    tokens_newest: int = 0
    parallel: int = 0


@dataclass(slots=True)
class Verdict:
    refused: tuple[int, str] | None  # (subject index, RPM | TPM | PARALLEL), or None when admitted
    stats: list[WindowStats]
    now_ms: int


class Windows(Protocol):
    """Where windows live: this process (`LocalWindows`) or the fleet's Redis (`RedisWindows`)."""

    async def admit(self, subjects: Sequence[Subject], admission_id: str, tokens: int, lease: int) -> Verdict | None:
        """Check and count; None when the store cannot answer (the caller falls back to local)."""

    async def finish(self, subjects: Sequence[Subject], admission_id: str, second: int, token_delta: int, release: bool) -> None:
        """Add `token_delta` to the admission's token buckets and, when `release`, free its slots."""


@dataclass(slots=True)
class Admission:
    """The limits state of one relay request, from RelayApp to the end of the answer. Created empty
    for every request; `admit` fills it, `finish` ends it (once)."""

    id: str = ""
    subjects: tuple[Subject, ...] = ()
    windows: Windows | None = None  # which store admitted it (the fallback when Redis failed)
    second: int = 0  # the bucket its tokens went into
    reserved: int = 0
    used: int = 0
    headers: list[tuple[bytes, bytes]] = field(default_factory=list)
    held: bool = False  # admitted and not finished
    slot: bool = False  # holds parallel slots not yet released


class LocalWindows:
    """This node's windows, in memory. Only subjects with limits get one, and a window idle for a
    minute with no request running is swept, so memory follows the recently active limited keys."""

    def __init__(self) -> None:
        self._windows: dict[str, _Window] = {}
        self._next_sweep = time.monotonic() + IDLE_SWEEP

    def __len__(self) -> int:
        return len(self._windows)

    async def admit(self, subjects: Sequence[Subject], admission_id: str, tokens: int, lease: int) -> Verdict:
        now = time.time()
        second = int(now)
        self._sweep(second)
        refused: tuple[int, str] | None = None
        stats: list[WindowStats] = []
        windows = []
        for index, subject in enumerate(subjects):
            window = self._windows.get(subject.key)
            if window is None:
                window = self._windows[subject.key] = _Window()
            window.prune(second)
            windows.append(window)
            stat = window.stats()
            stats.append(stat)
            if refused is None:
                refused = _refusal(index, subject.limits, stat, tokens)
        if refused is None:
            for subject, window in zip(subjects, windows, strict=False):
                window.add(subject.limits, second, tokens, admission_id)
        return Verdict(refused, stats, int(now * 1000))

    async def finish(self, subjects: Sequence[Subject], admission_id: str, second: int, token_delta: int, release: bool) -> None:
        for subject in subjects:
            window = self._windows.get(subject.key)
            if window is None:
                continue
            if release:
                window.running.discard(admission_id)
            if subject.limits.tpm and token_delta and second in window.tokens:
                window.tokens[second] += token_delta

    def _sweep(self, second: int) -> None:
        if time.monotonic() < self._next_sweep:
            return
        self._next_sweep = time.monotonic() + IDLE_SWEEP
        for key in [k for k, w in self._windows.items() if w.idle(second)]:
            del self._windows[key]


class _Window:
    __slots__ = ("requests", "running", "tokens")

    def __init__(self) -> None:
        self.requests: dict[int, int] = {}  # epoch second -> requests admitted in it
        self.tokens: dict[int, int] = {}  # epoch second -> tokens counted in it
        self.running: set[str] = set()  # admissions holding a parallel slot

    def prune(self, second: int) -> None:
        for buckets in (self.requests, self.tokens):
            for old in [s for s in buckets if s <= second - WINDOW]:
                del buckets[old]

    def stats(self) -> WindowStats:
        r, t = self.requests, self.tokens
        return WindowStats(
            sum(r.values()), min(r, default=0), max(r, default=0), sum(t.values()), min(t, default=0), max(t, default=0), len(self.running)
        )

    def add(self, limits: Limits, second: int, tokens: int, admission_id: str) -> None:
        if limits.rpm:
            self.requests[second] = self.requests.get(second, 0) + 1
        if limits.tpm:
            self.tokens[second] = self.tokens.get(second, 0) + tokens
        if limits.parallel:
            self.running.add(admission_id)

    def idle(self, second: int) -> bool:
        self.prune(second)
        return not (self.requests or self.tokens or self.running)


def _refusal(index: int, limits: Limits, stat: WindowStats, tokens: int) -> tuple[int, str] | None:
    if limits.rpm and stat.requests + 1 > limits.rpm:
        return index, RPM
    if limits.tpm and stat.tokens + tokens > limits.tpm:
        return index, TPM
    if limits.parallel and stat.parallel >= limits.parallel:
        return index, PARALLEL
    return None


class RateLimits:
    """The engine's rate limiter: which limits apply to a caller, and admitting against them."""

    def __init__(self, fleet: Windows | None = None) -> None:
        self.local = LocalWindows()
        self.fleet = fleet  # RedisWindows when the node has Redis
        self._group_text: str | None = None
        self._groups: dict[str, Limits] = {}

    @classmethod
    def for_ledger(cls, ledger: Any) -> RateLimits:
        """Fleet-wide windows on the quota ledger's Redis connection when it has one."""
        redis = getattr(ledger, "redis", None)
        if redis is None:
            return cls()
        from shared.relay.ratelimit_redis import RedisWindows  # the redis package only with Redis

        return cls(RedisWindows(redis))

    def group_limits(self, snapshot: Snapshot, group: str) -> Limits:
        text = snapshot.options.get("GroupRateLimits", "")
        if text != self._group_text:
            try:
                self._groups = parse_group_limits(text)
            except ValueError:
                self._groups = {}  # the option API refuses bad JSON; a bad stored value limits nothing
            self._group_text = text
        return self._groups.get(group, NO_LIMITS)

    def subjects(self, snapshot: Snapshot, caller: Caller) -> tuple[Subject, ...]:
        token, user = caller.token, caller.user
        user_limits = user.limits.tighten(self.group_limits(snapshot, user.group))
        out = []
        if token.limits.any:
            out.append(Subject(f"t:{token.id}", f"token {token.name!r}", token.limits))
        if user_limits.any:
            out.append(Subject(f"u:{user.id}", f"user {user.username!r}", user_limits))
        return tuple(out)

    async def admit(self, snapshot: Snapshot, caller: Caller, admission: Admission, tokens: int) -> None:
        """Count this request in every window that limits it, or raise a 429 naming the limit.
        Requests with no limit anywhere cost nothing here (no Redis call)."""
        subjects = self.subjects(snapshot, caller)
        if not subjects or admission.held:
            return
        tokens = max(0, tokens)
        admission.id = admission.id or uuid.uuid4().hex
        windows: Windows = self.local
        verdict: Verdict | None = None
        if self.fleet is not None:
            verdict = await self.fleet.admit(subjects, admission.id, tokens, SLOT_LEASE)  # None: Redis is down
            if verdict is not None:
                windows = self.fleet
        if verdict is None:
            verdict = await self.local.admit(subjects, admission.id, tokens, SLOT_LEASE)
            assert verdict is not None
        headers = rate_headers(subjects, verdict, tokens)
        if verdict.refused is not None:
            raise rate_limited(subjects, verdict, tokens, headers)  # the error carries the headers
        admission.headers = headers
        admission.subjects = subjects
        admission.windows = windows
        admission.second = verdict.now_ms // 1000
        admission.reserved = tokens
        admission.used = 0  # set at settlement; a request that never settles gives its tokens back
        admission.held = True
        admission.slot = any(s.limits.parallel for s in subjects)

    @staticmethod
    def settle(admission: Admission, tokens: int) -> None:
        """The tokens the request really used (prompt + completion); `finish` corrects the window."""
        admission.used = max(0, tokens)

    async def release_slot(self, admission: Admission) -> None:
        """Free the parallel slots now (the answer is complete); the token count waits for `finish`."""
        if admission.slot and admission.windows is not None:
            admission.slot = False
            await admission.windows.finish(admission.subjects, admission.id, admission.second, 0, True)

    async def finish(self, admission: Admission) -> None:
        """Release the slots if still held and correct the token count; a second call does nothing."""
        if not admission.held or admission.windows is None:
            return
        admission.held = False
        release, admission.slot = admission.slot, False
        delta = admission.used - admission.reserved if any(s.limits.tpm for s in admission.subjects) else 0
        if release or delta:
            await admission.windows.finish(admission.subjects, admission.id, admission.second, delta, release)

    def wrap(self, admission: Admission, send: Send) -> Send:
        """`send` that adds the x-ratelimit-* headers to the response start, and frees the parallel
        slots just before the last body message: a client that sends its next request the moment
        an answer ends must find its slot free."""

        async def send_limited(message: Message) -> None:
            kind = message["type"]
            if kind == "http.response.start" and admission.headers:
                message = {**message, "headers": [*message.get("headers", ()), *admission.headers]}
            elif kind == "http.response.body" and admission.slot and not message.get("more_body", False):
                await self.release_slot(admission)
            await send(message)

        return send_limited


def rate_headers(subjects: Sequence[Subject], verdict: Verdict, tokens: int) -> list[tuple[bytes, bytes]]:
    """OpenAI's x-ratelimit-* trios for the tightest request and token limits (remaining after this
    request; reset: until the window is empty again)."""
    admitted = verdict.refused is None
    out: list[tuple[bytes, bytes]] = []
    best: tuple[int, int, int] | None = None  # (remaining, limit, newest second)
    for subject, stat in zip(subjects, verdict.stats, strict=False):
        if subject.limits.rpm:
            newest = verdict.now_ms // 1000 if admitted else stat.requests_newest
            remaining = max(0, subject.limits.rpm - stat.requests - (1 if admitted else 0))
            if best is None or remaining < best[0]:
                best = (remaining, subject.limits.rpm, newest)
    if best is not None:
        out += _trio(b"requests", best, verdict.now_ms)
    best = None
    for subject, stat in zip(subjects, verdict.stats, strict=False):
        if subject.limits.tpm:
            newest = verdict.now_ms // 1000 if admitted else stat.tokens_newest
            remaining = max(0, subject.limits.tpm - stat.tokens - (tokens if admitted else 0))
            if best is None or remaining < best[0]:
                best = (remaining, subject.limits.tpm, newest)
    if best is not None:
        out += _trio(b"tokens", best, verdict.now_ms)
    return out


def _trio(kind: bytes, best: tuple[int, int, int], now_ms: int) -> list[tuple[bytes, bytes]]:
    remaining, limit, newest = best
    reset_ms = max(0, (newest + WINDOW) * 1000 - now_ms) if newest else 0
    return [
        (b"x-ratelimit-limit-" + kind, str(limit).encode()),
        (b"x-ratelimit-remaining-" + kind, str(remaining).encode()),
        (b"x-ratelimit-reset-" + kind, duration(reset_ms).encode()),
    ]


def duration(ms: int) -> str:
    """A reset time as OpenAI writes it: "120ms", "17s", "1m5s"."""
    if ms < 1000:
        return f"{ms}ms"
    seconds = ms / 1000
    if seconds < 60:
        return f"{seconds:.3f}".rstrip("0").rstrip(".") + "s"
    minutes, rest = divmod(int(seconds), 60)
    return f"{minutes}m{rest}s"


def rate_limited(subjects: Sequence[Subject], verdict: Verdict, tokens: int, headers: list[tuple[bytes, bytes]]) -> RelayError:
    """The 429 of a refused request, naming the limit, with a Retry-After."""
    assert verdict.refused is not None
    index, kind = verdict.refused
    subject, stat = subjects[index], verdict.stats[index]
    limits = subject.limits
    if kind == RPM:
        wait_ms = (stat.requests_oldest + WINDOW) * 1000 - verdict.now_ms
        text = f"requests per minute (RPM): Limit {limits.rpm}, Used {stat.requests}, Requested 1"
    elif kind == TPM:
        wait_ms = (stat.tokens_oldest + WINDOW) * 1000 - verdict.now_ms if stat.tokens_oldest else 0
        text = f"tokens per minute (TPM): Limit {limits.tpm}, Used {stat.tokens}, Requested {tokens}"
    else:
        wait_ms = 1000
        text = f"parallel requests: Limit {limits.parallel}, Running {stat.parallel}"
    wait_s = max(1, math.ceil(wait_ms / 1000))
    message = f"Rate limit reached for {subject.label} on {text}. Please try again in {duration(max(wait_ms, 0))}."
    return RelayError(
        429,
        message,
        type="tokens" if kind == TPM else "requests",
        code="rate_limit_exceeded",
        headers=(*headers, (b"retry-after", str(wait_s).encode())),
    )
