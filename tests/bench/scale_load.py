"""The open-loop load of `make bench-scale`: requests are sent at scheduled instants (a fixed rate),
whether or not earlier answers came back, so a slow node shows as latency and lateness rather than as
a lower offered rate (a closed loop of N connections would quietly slow down with it)."""

from __future__ import annotations

import asyncio
import math
import time
from dataclasses import dataclass, field

import httpx

from shared.relay.h1client import ClientError, Pool

MAX_IN_FLIGHT = 2000  # requests the driver holds open at once; past it a request is counted, not sent
REQUEST_TIMEOUT = 30.0


def send_times(rate: float, seconds: float) -> list[float]:
    """Offsets (seconds from the start) of the requests of a steady `rate` per second."""
    if rate <= 0 or seconds <= 0:
        return []
    return [i / rate for i in range(int(rate * seconds))]


def percentile(values: list[float], q: float) -> float:
    """The q-th percentile (0..100) by nearest rank; 0.0 for no values."""
    if not values:
        return 0.0
    ranked = sorted(values)
    index = min(len(ranked) - 1, max(0, math.ceil(q / 100 * len(ranked)) - 1))
    return ranked[index]


@dataclass
class LoadResult:
    offered: int = 0
    ok: int = 0
    failed: int = 0
    over_cap: int = 0  # not sent: MAX_IN_FLIGHT requests were open already
    latencies: list[float] = field(default_factory=list)
    late: list[float] = field(default_factory=list)  # how far behind its instant each send started
    statuses: dict[str, int] = field(default_factory=dict)
    seconds: float = 0.0  # from the first send to the last answer (or the drain's timeout)
    window: float = 0.0  # the scheduled window: offered / rate

    def summary(self) -> dict[str, float | int | dict[str, int]]:
        return {
            "offered": self.offered,
            "ok": self.ok,
            "failed": self.failed,
            "over_cap": self.over_cap,
            # Over the scheduled window: a tail of slow answers must not dilute the rate.
            "achieved_rps": round(self.ok / self.window, 1) if self.window else 0.0,
            "p50_ms": round(percentile(self.latencies, 50) * 1000, 1),
            "p99_ms": round(percentile(self.latencies, 99) * 1000, 1),
            "late_p99_ms": round(percentile(self.late, 99) * 1000, 1),
            "statuses": self.statuses,
        }


async def drive(targets: list[str], keys: list[str], rate: float, seconds: float, body: bytes) -> LoadResult:
    """POST `body` to /v1/chat/completions at `rate` per second for `seconds`, request i to
    targets[i % len(targets)] with keys[i % len(keys)]."""
    result = LoadResult(window=seconds)
    # The relay's own HTTP/1.1 client (~15 µs of CPU a request): the driver shares two cores with
    # the fleet, and httpx's ~10x cost made the driver, not the nodes, fall behind the schedule.
    pool = Pool(connect_timeout=10.0, timeout=REQUEST_TIMEOUT, max_conns_per_host=MAX_IN_FLIGHT)
    urls = [t + "/v1/chat/completions" for t in targets]
    try:
        in_flight: set[asyncio.Task[None]] = set()

        async def one(i: int) -> None:
            sent = time.monotonic()
            try:
                resp = await pool.request(
                    "POST",
                    urls[i % len(urls)],
                    {"Authorization": f"Bearer sk-{keys[i % len(keys)]}", "Content-Type": "application/json"},
                    body,
                )
                await resp.read()
                status = str(resp.status)
            except (TimeoutError, ClientError, OSError) as exc:
                status = f"{type(exc).__name__}: {str(exc)[:60]}"
            result.statuses[status] = result.statuses.get(status, 0) + 1
            if status == "200":
                result.ok += 1
                result.latencies.append(time.monotonic() - sent)
            else:
                result.failed += 1

        start = time.monotonic()
        for i, offset in enumerate(send_times(rate, seconds)):
            delay = start + offset - time.monotonic()
            if delay > 0:
                await asyncio.sleep(delay)
            result.offered += 1
            result.late.append(max(0.0, time.monotonic() - start - offset))
            if len(in_flight) >= MAX_IN_FLIGHT:
                result.over_cap += 1
                continue
            task = asyncio.create_task(one(i))
            in_flight.add(task)
            task.add_done_callback(in_flight.discard)
        if in_flight:
            await asyncio.wait(set(in_flight), timeout=REQUEST_TIMEOUT + 5)
        result.seconds = time.monotonic() - start
    finally:
        pool.close()
    return result


async def time_until(check_urls: list[str], key: str, want_ok: bool, since: float, timeout: float, interval: float = 0.02) -> float | None:
    """Seconds from `since` (monotonic: when the change was requested) until every url of
    `check_urls` answers GET /v1/models with `key` as wanted (200 when `want_ok`, 401/403
    otherwise); None when one has not within `timeout`."""
    started = since
    pending = set(check_urls)
    async with httpx.AsyncClient(timeout=5) as client:
        while pending:
            for url in list(pending):
                try:
                    code = (await client.get(url + "/v1/models", headers={"Authorization": f"Bearer sk-{key}"})).status_code
                except httpx.HTTPError:
                    continue
                if (code == 200) == want_ok and code in (200, 401, 403):
                    pending.discard(url)
            if not pending:
                break
            if time.monotonic() - started > timeout:
                return None
            await asyncio.sleep(interval)
    return time.monotonic() - started
