"""A pooled HTTP/1.1 client on asyncio protocols and httptools' response parser.

Measured on the bench machine (uvicorn, one core, c=50, a relay that only forwards): aiohttp's client
costs ~120 µs of CPU per request, this one ~15 µs, because a request here is one bytes write and a
parser feeding a handful of callbacks, with no per-request objects beyond the response. It does only
what the relay needs: keep-alive pools per (scheme, host, port), TLS, Content-Length and chunked
bodies (httptools de-chunks), gzip/deflate decoding, a connect timeout and a whole-exchange
timeout, read back-pressure for streams. Proxies stay with aiohttp (see upstream.py).

Everything an upstream sends is bounded: the answer's decoded size (`max_answer`), the header count
and size, the time without a byte (`idle_timeout`, even with no whole-exchange timeout) and the
connections per host (`max_conns_per_host`; more requests wait for a free one).
"""

from __future__ import annotations

import asyncio
import ssl
import time
import zlib
from collections import deque
from typing import AsyncIterator, Mapping

import httptools

from shared.relay.h1parts import (
    DEFAULT_HEADERS,
    AnswerTooLarge,
    ClientError,
    Decoder,
    Headers,
    Target,
    decoder_for,
    request_bytes,
)

__all__ = ["AnswerTooLarge", "ClientError", "DEFAULT_HEADERS", "Headers", "Pool", "Response", "Target"]

IDLE_SECONDS = 60.0  # an idle pooled connection older than this is closed rather than reused
MAX_IDLE_PER_HOST = 1024
HIGH_WATER = 256 * 1024  # buffered body bytes before the socket stops being read (streams)
MAX_HEADERS = 128  # header lines of one answer, interim (1xx) answers included
MAX_HEAD_BYTES = 64 * 1024  # bytes before the end of the headers
MAX_ANSWER = 64 * 1024 * 1024  # decoded body bytes of one answer
IDLE_TIMEOUT = 600.0  # seconds without a byte from the upstream while an answer is awaited
MAX_CONNS_PER_HOST = 1024


class _NotSent(ClientError):
    """The connection proved closed before any byte of the request reached it."""


class _Refused(ClientError):
    """Raised inside a parser callback to stop parsing at once; carries the exchange's error."""


class _Leftover(Exception):
    """Bytes after a complete answer: the connection is out of step and must not be reused."""


class Connection(asyncio.Protocol):
    """One keep-alive connection; carries at most one exchange at a time."""

    def __init__(self, pool: "Pool", key: tuple[str, str, int]) -> None:
        self.pool = pool
        self.key = key
        self.limit = pool.max_answer
        # Framing can add to the body (chunk headers, trailers that httptools holds in memory):
        # the bytes on the wire are capped too, at twice the body's cap.
        self.wire_limit = 2 * self.limit + MAX_HEAD_BYTES
        self.idle_timeout = pool.idle_timeout
        self.transport: asyncio.Transport | None = None
        self.parser = httptools.HttpResponseParser(self)
        self.closed = False
        self.counted = False  # holds one of the pool's per-host slots
        self.in_pool = False
        self.idle_since = 0.0
        self._reset()

    def _reset(self) -> None:
        self.reusable = False
        self.head_only = False
        self.status = 0
        self.raw_headers: list[tuple[bytes, bytes]] = []
        self.header_count = 0
        self.wire = 0  # bytes of this answer as received, framing included
        self.headers_ready: asyncio.Future | None = None
        self.body: deque[bytes] = deque()
        self.buffered = 0
        self.received = 0  # decoded body bytes of this answer, against `limit`
        self.complete = False
        self.error: ClientError | None = None
        self.eof_body = False
        self.decode: Decoder | None = None
        self.fed = False
        self.waiter: asyncio.Future | None = None
        self.paused = False
        self.timer: asyncio.TimerHandle | None = None
        self.deadline = 0.0
        self.last_read = 0.0

    # asyncio.Protocol

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport  # type: ignore[assignment]

    def data_received(self, data: bytes) -> None:
        self.last_read = time.monotonic()
        self.wire += len(data)
        try:
            self.parser.feed_data(data)
        except httptools.HttpParserCallbackError as exc:
            cause = exc.__context__
            if isinstance(cause, ClientError):
                self._fail(cause)
            else:  # _Leftover, or bytes after an answer that is complete
                self.discard()
        except httptools.HttpParserUpgrade:
            self._fail(ClientError("upstream switched protocols"))
        except httptools.HttpParserError as exc:
            if self.complete:
                self.discard()
            else:
                self._fail(ClientError(f"malformed upstream response: {exc}"))
        if self.wire > self.wire_limit and self.error is None and not self.complete:
            self._fail(AnswerTooLarge(f"upstream answer exceeds the {self.limit}-byte cap"))
        elif not self.status and self.wire > MAX_HEAD_BYTES and self.error is None:
            self._fail(ClientError(f"upstream answer headers exceed {MAX_HEAD_BYTES} bytes"))

    def connection_lost(self, exc: Exception | None) -> None:
        self.closed = True
        self.pool.forget(self)
        if self.complete or self.error is not None:
            return
        if self.status and self.eof_body:  # the body ran to the end of the connection
            if self.decode is not None and not self.decode.complete(self.fed):
                self._fail(ClientError("bad compressed body: the stream ends early"))
            else:
                self._finish()
        elif self.headers_ready is not None:
            self._fail(ClientError(str(exc) if exc else "upstream closed the connection"))

    # httptools callbacks

    def on_message_begin(self) -> None:
        if self.complete or self.headers_ready is None:
            raise _Leftover()

    def on_header(self, name: bytes, value: bytes) -> None:
        self.header_count += 1
        if self.header_count > MAX_HEADERS:
            raise _Refused(f"upstream answer has more than {MAX_HEADERS} headers")
        if self.status:  # a trailer after a chunked body: not a header of the answer
            return
        if value and value[-1] in (32, 9):  # httptools keeps trailing whitespace; it is not the value
            value = value.rstrip(b" \t")
        self.raw_headers.append((name, value))

    def on_headers_complete(self) -> None:
        status = self.parser.get_status_code()
        if 100 <= status < 200:  # an interim answer: the real one follows
            self.raw_headers = []
            return
        self.status = status
        chunked = has_length = False
        length = size = 0
        for name, value in self.raw_headers:
            size += len(name) + len(value)
            low = name.lower()
            if low == b"content-length":
                has_length = True
                length = int(value) if value.isdigit() else 0  # httptools refuses a bad one itself
            elif low == b"transfer-encoding":
                chunked = b"chunked" in value.lower()
            elif low == b"content-encoding" and not self.head_only:
                self.decode = decoder_for(value)
        if size > MAX_HEAD_BYTES:  # a head that arrived in one read; longer ones stop in data_received
            raise _Refused(f"upstream answer headers exceed {MAX_HEAD_BYTES} bytes")
        self.eof_body = not (has_length or chunked or status in (204, 304))
        if has_length and not chunked and self.decode is None and length > self.limit and not self.head_only:
            raise AnswerTooLarge(f"upstream answer of {length} bytes exceeds the {self.limit}-byte cap")
        if self.headers_ready is not None and not self.headers_ready.done():
            self.headers_ready.set_result(None)
        if self.head_only:  # no body follows a HEAD answer; the parser would wait for one
            self._finish(reusable=False)

    def on_body(self, data: bytes) -> None:
        if self.complete:
            return
        if self.decode is not None:
            self.fed = True
            try:
                data = self.decode.decompress(data, self.limit - self.received + 1)
            except zlib.error as exc:
                raise _Refused(f"bad compressed body: {exc}") from None
        self.received += len(data)
        if self.received > self.limit:
            raise AnswerTooLarge(f"upstream answer exceeds the {self.limit}-byte cap")
        if data:
            self.body.append(data)
            self.buffered += len(data)
            if self.buffered > HIGH_WATER and not self.paused and self.transport is not None:
                self.paused = True
                self.transport.pause_reading()
            self._wake()

    def on_message_complete(self) -> None:
        if not self.status:
            return
        if self.decode is not None and not self.decode.complete(self.fed):
            raise _Refused("bad compressed body: the stream ends early")
        self._finish(reusable=self.parser.should_keep_alive())

    # exchange

    def start(self, request: bytes, head_only: bool, timeout: float) -> asyncio.Future:
        """Write the request; the future resolves when the answer's headers are in.

        Raises _NotSent when the connection proves closed with none of the request sent: it was
        closing before the write, or the kernel refused the first send (the transport closes inside
        write() only then; any later failure comes after bytes may have left)."""
        assert self.transport is not None
        if self.closed or self.transport.is_closing():
            raise _NotSent("upstream closed the connection before the request")
        self._reset()
        self.head_only = head_only
        loop = asyncio.get_running_loop()
        self.headers_ready = loop.create_future()
        self.last_read = now = time.monotonic()
        self.deadline = now + timeout if timeout else 0.0
        self.timer = loop.call_later(min(timeout, self.idle_timeout) if timeout else self.idle_timeout, self._tick)
        self.transport.write(request)
        if self.transport.is_closing() and self.error is None and not self.status:
            self._cancel_timer()
            raise _NotSent("kept-alive connection refused the request")
        return self.headers_ready

    def _tick(self) -> None:
        """The one timer of an exchange: the whole-exchange deadline and the time without a byte."""
        self.timer = None
        if self.complete or self.error is not None:
            return
        now = time.monotonic()
        if self.deadline and now >= self.deadline:
            self._fail(ClientError("upstream timed out"))
            return
        if self.paused:  # the reader is slow, not the upstream
            self.last_read = now
        elif now - self.last_read >= self.idle_timeout:
            self._fail(ClientError(f"upstream timed out: no byte for {self.idle_timeout:g} s"))
            return
        next_at = self.last_read + self.idle_timeout
        if self.deadline:
            next_at = min(next_at, self.deadline)
        self.timer = asyncio.get_running_loop().call_later(max(next_at - now, 0.0), self._tick)

    def _cancel_timer(self) -> None:
        if self.timer is not None:
            self.timer.cancel()
            self.timer = None

    def _finish(self, reusable: bool = False) -> None:
        self.complete = True
        self.reusable = reusable and not self.closed
        self._cancel_timer()
        self._wake()

    def _fail(self, error: ClientError) -> None:
        if self.complete or self.error is not None:
            self.discard()
            return
        self.error = error
        self._cancel_timer()
        if self.headers_ready is not None and not self.headers_ready.done():
            self.headers_ready.set_exception(error)
            self.headers_ready.exception()  # retrieved here; the sender re-raises it
        self._wake()
        self.abort()

    def _wake(self) -> None:
        waiter = self.waiter
        if waiter is not None and not waiter.done():
            waiter.set_result(None)

    def discard(self) -> None:
        """Never reuse this connection; close it unless an answer is still arriving on it."""
        self.reusable = False
        if self.in_pool or self.complete or self.headers_ready is None:
            self.abort()

    def abort(self) -> None:
        self.closed = True
        self.reusable = False
        if self.transport is not None:
            self.transport.abort()

    async def wait(self) -> None:
        self.waiter = asyncio.get_running_loop().create_future()
        await self.waiter
        self.waiter = None

    def take(self) -> bytes:
        data = b"".join(self.body) if len(self.body) != 1 else self.body[0]
        self.body.clear()
        self.buffered = 0
        if self.paused and self.transport is not None and not self.closed:
            self.paused = False
            self.last_read = time.monotonic()
            self.transport.resume_reading()
        return data


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
            except _NotSent:
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
        except asyncio.TimeoutError as exc:
            raise ClientError(
                f"no free connection to {target.host}:{target.port} ({self.max_conns_per_host} in use)"
            ) from exc
        finally:
            if waiter in waiters:
                waiters.remove(waiter)

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
                loop.create_connection(lambda: conn, target.host, target.port, ssl=ssl_ctx,
                                       server_hostname=target.host if ssl_ctx else None),
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
        for idle in self._idle.values():
            for conn in idle:
                conn.abort()
        self._idle.clear()
