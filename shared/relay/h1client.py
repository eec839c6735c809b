"""A pooled HTTP/1.1 client on asyncio protocols and httptools' response parser.

Measured on the bench machine (uvicorn, one core, c=50, a relay that only forwards): aiohttp's client
costs ~120 µs of CPU per request, this one ~15 µs, because a request here is one bytes write and a
parser feeding a handful of callbacks, with no per-request objects beyond the response. It does only
what the relay needs: keep-alive pools per (scheme, host, port), TLS, Content-Length and chunked
bodies (httptools de-chunks), gzip/deflate decoding, a connect timeout and a whole-exchange
timeout, read back-pressure for streams. Proxies stay with aiohttp (see upstream.py).

Everything an upstream sends is bounded: the answer's decoded size (`max_answer`; a compression bomb
stops there), the header count and size, the bytes on the wire, the time without a byte
(`idle_timeout`, even with no whole-exchange timeout) and the connections per host
(`max_conns_per_host`; more requests wait for a free one). The caps cost counters on the hot path
(+~1.3 µs per request in a client-and-server micro-benchmark, no clock call per read).

Here: the pool and the answer; h1connection.py: the protocol and the parser's callbacks;
h1parts.py: URL targets, request bytes, the header view and the decoders.
"""

from __future__ import annotations

import asyncio
import ssl
import time
from collections import deque
from collections.abc import AsyncIterator, Mapping

from shared.relay.h1connection import (
    HIGH_WATER,
    MAX_HEAD_BYTES,
    MAX_HEADERS,
    Connection,
    NotSent,
)
from shared.relay.h1parts import (
    DEFAULT_HEADERS,
    AnswerTooLarge,
    ClientError,
    Headers,
    Target,
    request_bytes,
)

__all__ = [
    "AnswerTooLarge",
    "ClientError",
    "DEFAULT_HEADERS",
    "HIGH_WATER",
    "Headers",
    "MAX_HEADERS",
    "MAX_HEAD_BYTES",
    "Pool",
    "Response",
    "Target",
]

IDLE_SECONDS = 60.0  # an idle pooled connection older than this is closed rather than reused
MAX_IDLE_PER_HOST = 1024
MAX_ANSWER = 64 * 1024 * 1024  # decoded body bytes of one answer
IDLE_TIMEOUT = 600.0  # seconds without a byte from the upstream while an answer is awaited
MAX_CONNS_PER_HOST = 1024


class Response:
    """An answer whose headers have arrived; the body is read with read() or chunks()."""

    __slots__ = ("status", "raw_headers", "_conn", "_released")

    def __init__(self, conn: Connection) -> None:
        self._conn = conn
        self._released = False
        self.status = conn.status
        self.raw_headers = conn.raw_headers  # [(name, value)] as received; the relay copies these

    @property
    def headers(self) -> Headers:
        return Headers(self.raw_headers)

    def header(self, lower_name: bytes) -> str:
        for name, value in self.raw_headers:
            if name.lower() == lower_name:
                return value.decode("latin-1")
        return ""

    async def read(self) -> bytes:
        """The whole body, taken as it arrives so the socket is never left paused."""
        conn = self._conn
        parts: list[bytes] = []
        try:
            while True:
                if conn.body:
                    parts.append(conn.take())
                if conn.error is not None:
                    raise conn.error
                if conn.complete:
                    break
                await conn.wait()
        finally:
            self.close()
        return parts[0] if len(parts) == 1 else b"".join(parts)

    async def chunks(self) -> AsyncIterator[bytes]:
        conn = self._conn
        while True:
            if conn.body:
                yield conn.take()
            elif conn.error is not None:
                raise conn.error
            elif conn.complete:
                self.close()
                return
            else:
                await conn.wait()

    def close(self) -> None:
        """Give the connection back when the answer was read whole, else drop it."""
        if self._released:
            return
        self._released = True
        conn = self._conn
        if conn.complete and conn.reusable and conn.error is None and not conn.body:
            conn.pool.release(conn)
        else:
            conn.abort()


class Pool:
    """Keep-alive connections per (scheme, host, port); the newest idle one is reused first.

    A request is written at most once. It goes again, on a new connection, only when a reused
    connection proves closed with none of its bytes sent (see Connection.start). Once bytes may
    have reached the upstream, any failure is final: the upstream may have run a paid call, and
    nothing in HTTP/1.1 proves it did not."""

    def __init__(
        self,
        connect_timeout: float = 30.0,
        timeout: float = 0.0,
        ssl_context: ssl.SSLContext | None = None,
        idle_timeout: float = IDLE_TIMEOUT,
        max_answer: int = MAX_ANSWER,
        max_conns_per_host: int = MAX_CONNS_PER_HOST,
    ) -> None:
        self.connect_timeout = connect_timeout
        self.timeout = timeout
        self.idle_timeout = idle_timeout if idle_timeout > 0 else IDLE_TIMEOUT
        self.max_answer = max_answer if max_answer > 0 else MAX_ANSWER
        self.max_conns_per_host = max_conns_per_host if max_conns_per_host > 0 else MAX_CONNS_PER_HOST
        self._idle: dict[tuple[str, str, int], list[Connection]] = {}
        self._open: dict[tuple[str, str, int], int] = {}
        self._waiters: dict[tuple[str, str, int], deque[asyncio.Future]] = {}
        self._targets: dict[str, Target] = {}
        self._ssl = ssl_context  # default: the system's CAs, made at the first https URL
        # Exchanges awaiting bytes, swept every `sweep_every` seconds for their deadline and idle
        # time: one timer for the pool rather than one per request (a uvloop timer costs µs).
        self._busy: set[Connection] = set()
        self._sweeper: asyncio.TimerHandle | None = None
        self._sweep_loop: asyncio.AbstractEventLoop | None = None
        self.sweep_every = min(1.0, self.idle_timeout / 4, timeout / 4 if timeout else 1.0)

    def target(self, url: str) -> Target:
        target = self._targets.get(url)
        if target is None:
            target = Target(url)
            if len(self._targets) > 4096:  # URLs come from channel settings: few, but bounded anyway
                self._targets.clear()
            self._targets[url] = target
        return target

    async def request(self, method: str, url: str, headers: Mapping[str, str], body: bytes | None) -> Response:
        target = self.target(url)
        raw = request_bytes(method, target, headers, body)
        head_only = method == "HEAD"
        for fresh in (False, True):
            conn = await self._acquire(target, fresh)
            try:
                await conn.start(raw, head_only, self.timeout)
            except NotSent:
                conn.abort()
                if fresh:
                    raise
                continue  # nothing reached the upstream: send it, once, on a new connection
            except BaseException:  # failed or cancelled mid-exchange: the connection's state is unknown
                conn.abort()
                raise
            return Response(conn)
        raise ClientError("unreachable")

    async def _acquire(self, target: Target, fresh: bool) -> Connection:
        """The newest live idle connection (unless `fresh`), else a new one within the per-host cap."""
        key = target.key
        while True:
            idle = self._idle.get(key)
            if idle and not fresh:
                deadline = time.monotonic() - IDLE_SECONDS
                while idle:
                    conn = idle.pop()
                    conn.in_pool = False
                    if not conn.closed and conn.idle_since >= deadline and conn.transport is not None and not conn.transport.is_closing():
                        return conn
                    conn.abort()
            if self._open.get(key, 0) < self.max_conns_per_host:
                return await self._connect(target)
            if idle and fresh:  # at the cap: an idle connection makes room for a new one
                stale = idle.pop(0)
                stale.in_pool = False
                stale.abort()
                self._uncount(stale)
                continue
            await self._wait_for_slot(target)

    async def _wait_for_slot(self, target: Target) -> None:
        waiter = asyncio.get_running_loop().create_future()
        waiters = self._waiters.setdefault(target.key, deque())
        waiters.append(waiter)
        try:
            await asyncio.wait_for(waiter, self.connect_timeout or None)
        except TimeoutError as exc:
            raise ClientError(f"no free connection to {target.host}:{target.port} ({self.max_conns_per_host} in use)") from exc
        except asyncio.CancelledError:
            if waiter.done() and not waiter.cancelled():  # woken, then cancelled: pass the turn on
                self._wake_waiter(target.key)
            raise
        finally:
            if waiter in waiters:
                waiters.remove(waiter)
            if not waiters:
                self._waiters.pop(target.key, None)

    def _wake_waiter(self, key: tuple[str, str, int]) -> None:
        waiters = self._waiters.get(key)
        while waiters:
            waiter = waiters.popleft()
            if not waiter.done():
                waiter.set_result(None)
                return

    async def _connect(self, target: Target) -> Connection:
        loop = asyncio.get_running_loop()
        conn = Connection(self, target.key)
        conn.counted = True
        self._open[target.key] = self._open.get(target.key, 0) + 1
        ssl_ctx = self._ssl_context() if target.tls else None
        try:
            await asyncio.wait_for(
                loop.create_connection(
                    lambda: conn, target.host, target.port, ssl=ssl_ctx, server_hostname=target.host if ssl_ctx else None
                ),
                self.connect_timeout or None,
            )
        except BaseException as exc:
            conn.abort()
            self._uncount(conn)
            if isinstance(exc, asyncio.TimeoutError):
                raise ClientError(f"connect to {target.host}:{target.port} timed out") from exc
            if isinstance(exc, (OSError, ssl.SSLError)):
                raise ClientError(f"connect to {target.host}:{target.port} failed: {exc}") from exc
            raise
        return conn

    def watch(self, conn: Connection, loop: asyncio.AbstractEventLoop) -> None:
        """Time `conn`'s exchange: a timeout fires at most `sweep_every` seconds late."""
        self._busy.add(conn)
        if self._sweeper is None or self._sweep_loop is not loop:
            self._sweep_loop = loop
            self._sweeper = loop.call_later(self.sweep_every, self._sweep)

    def unwatch(self, conn: Connection) -> None:
        self._busy.discard(conn)

    def _sweep(self) -> None:
        now = time.monotonic()
        for conn in list(self._busy):
            conn.check_time(now)
        if self._busy and self._sweep_loop is not None and not self._sweep_loop.is_closed():
            self._sweeper = self._sweep_loop.call_later(self.sweep_every, self._sweep)
        else:
            self._sweeper = None

    def _ssl_context(self) -> ssl.SSLContext:
        if self._ssl is None:
            self._ssl = ssl.create_default_context()
        return self._ssl

    def _uncount(self, conn: Connection) -> None:
        if conn.counted:
            conn.counted = False
            self._open[conn.key] -= 1
            self._wake_waiter(conn.key)

    def release(self, conn: Connection) -> None:
        idle = self._idle.setdefault(conn.key, [])
        if len(idle) >= MAX_IDLE_PER_HOST:
            conn.abort()
            return
        conn.idle_since = time.monotonic()
        conn.in_pool = True
        idle.append(conn)
        if self._waiters:
            self._wake_waiter(conn.key)

    def forget(self, conn: Connection) -> None:
        """A connection closed: out of the idle list, and its per-host slot is free."""
        idle = self._idle.get(conn.key)
        if conn.in_pool and idle and conn in idle:
            idle.remove(conn)
        conn.in_pool = False
        self._uncount(conn)

    def open_connections(self, url: str) -> int:
        """Connections open (busy or idle) to the host of `url`."""
        return self._open.get(self.target(url).key, 0)

    def close(self) -> None:
        if self._sweeper is not None:
            self._sweeper.cancel()
            self._sweeper = None
        for idle in self._idle.values():
            for conn in idle:
                conn.abort()
        self._idle.clear()
