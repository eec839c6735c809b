"""A pooled HTTP/1.1 client on asyncio protocols and httptools' response parser.

Measured on the bench machine (uvicorn, one core, c=50, a relay that only forwards): aiohttp's client
costs ~120 µs of CPU per request, this one ~15 µs, because a request here is one bytes write and a
parser feeding a handful of callbacks, with no per-request objects beyond the response. It does only
what the relay needs: keep-alive pools per (scheme, host, port), TLS, Content-Length and chunked
bodies (httptools de-chunks), gzip/deflate decoding, a connect timeout and a whole-exchange
timeout, read back-pressure for streams. Proxies stay with aiohttp (see upstream.py).
"""

from __future__ import annotations

import asyncio
import ssl
import time
import zlib
from collections import deque
from typing import AsyncIterator, Callable, Iterator, Mapping
from urllib.parse import urlsplit

import httptools

from shared.settings import VERSION

IDLE_SECONDS = 60.0  # an idle pooled connection older than this is closed rather than reused
MAX_IDLE_PER_HOST = 1024
HIGH_WATER = 256 * 1024  # buffered body bytes before the socket stops being read
DEFAULT_HEADERS = {"Accept": "*/*", "Accept-Encoding": "gzip, deflate", "User-Agent": f"one-api-python/{VERSION}"}


class ClientError(Exception):
    """The exchange failed: no connection, a broken or malformed answer, or a timeout."""


class _StaleConnection(ClientError):
    """A reused keep-alive connection closed before any answer: the request was not processed."""


class Target:
    """The parts of a URL a request needs, parsed once per distinct URL."""

    __slots__ = ("key", "host", "port", "tls", "host_header", "path")

    def __init__(self, url: str) -> None:
        parts = urlsplit(url)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise ClientError(f"unsupported URL: {url!r}")
        self.tls = parts.scheme == "https"
        self.host = parts.hostname
        try:
            self.port = parts.port or (443 if self.tls else 80)
        except ValueError as exc:
            raise ClientError(f"invalid port in URL: {url!r}") from exc
        self.key = (parts.scheme, self.host, self.port)
        host = f"[{self.host}]" if ":" in self.host else self.host
        default_port = 443 if self.tls else 80
        self.host_header = host if self.port == default_port else f"{host}:{self.port}"
        self.path = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")


def _decoder(encoding: str) -> Callable[[bytes], bytes] | None:
    if encoding == "gzip":
        return zlib.decompressobj(16 + zlib.MAX_WBITS).decompress
    if encoding == "deflate":
        return _Deflate().decompress
    return None


class _Deflate:
    """The "deflate" coding is zlib-wrapped by the standard, raw from some servers: the first bytes tell."""

    def __init__(self) -> None:
        self._obj: "zlib._Decompress | None" = None

    def decompress(self, data: bytes) -> bytes:
        if self._obj is None:
            wrapped = len(data) >= 2 and (data[0] & 0x0F) == 8 and ((data[0] << 8) | data[1]) % 31 == 0
            self._obj = zlib.decompressobj(zlib.MAX_WBITS if wrapped else -zlib.MAX_WBITS)
        return self._obj.decompress(data)


class Connection(asyncio.Protocol):
    """One keep-alive connection; carries at most one exchange at a time."""

    def __init__(self, pool: "Pool", key: tuple[str, str, int]) -> None:
        self.pool = pool
        self.key = key
        self.transport: asyncio.Transport | None = None
        self.parser = httptools.HttpResponseParser(self)
        self.closed = False
        self.idle_since = 0.0
        self._reset()

    def _reset(self) -> None:
        self.reused = False
        self.reusable = False
        self.head_only = False
        self.status = 0
        self.raw_headers: list[tuple[bytes, bytes]] = []
        self.headers_ready: asyncio.Future | None = None
        self.body: deque[bytes] = deque()
        self.buffered = 0
        self.complete = False
        self.error: ClientError | None = None
        self.received_any = False
        self.eof_body = False
        self.decode: Callable[[bytes], bytes] | None = None
        self.waiter: asyncio.Future | None = None
        self.paused = False
        self.timer: asyncio.TimerHandle | None = None

    # asyncio.Protocol

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport  # type: ignore[assignment]

    def data_received(self, data: bytes) -> None:
        self.received_any = True
        try:
            self.parser.feed_data(data)
        except httptools.HttpParserUpgrade:
            self._fail(ClientError("upstream switched protocols"))
        except httptools.HttpParserError as exc:
            self._fail(ClientError(f"malformed upstream response: {exc}"))

    def connection_lost(self, exc: Exception | None) -> None:
        self.closed = True
        self.pool.forget(self)
        if self.complete or self.error is not None:
            return
        if self.status and self.eof_body:  # the body ran to the end of the connection
            self._finish()
        elif self.reused and not self.received_any:
            self._fail(_StaleConnection("keep-alive connection closed by upstream"))
        elif self.headers_ready is not None:
            self._fail(ClientError(str(exc) if exc else "upstream closed the connection"))

    # httptools callbacks

    def on_header(self, name: bytes, value: bytes) -> None:
        self.raw_headers.append((name, value))

    def on_headers_complete(self) -> None:
        status = self.parser.get_status_code()
        if 100 <= status < 200:  # an interim answer: the real one follows
            self.raw_headers = []
            return
        self.status = status
        chunked = has_length = False
        for name, value in self.raw_headers:
            low = name.lower()
            if low == b"content-length":
                has_length = True
            elif low == b"transfer-encoding":
                chunked = b"chunked" in value.lower()
            elif low == b"content-encoding" and not self.head_only:
                self.decode = _decoder(value.strip().lower().decode("latin-1"))
        self.eof_body = not (has_length or chunked or status in (204, 304))
        if self.headers_ready is not None and not self.headers_ready.done():
            self.headers_ready.set_result(None)
        if self.head_only:  # no body follows a HEAD answer; the parser would wait for one
            self._finish(reusable=False)

    def on_body(self, data: bytes) -> None:
        if self.complete:
            return
        if self.decode is not None:
            try:
                data = self.decode(data)
            except zlib.error as exc:
                self._fail(ClientError(f"bad compressed body: {exc}"))
                return
        if data:
            self.body.append(data)
            self.buffered += len(data)
            if self.buffered > HIGH_WATER and not self.paused and self.transport is not None:
                self.paused = True
                self.transport.pause_reading()
            self._wake()

    def on_message_complete(self) -> None:
        if self.status:
            self._finish(reusable=self.parser.should_keep_alive())

    # exchange

    def start(self, request: bytes, head_only: bool, timeout: float, reused: bool) -> asyncio.Future:
        self._reset()
        self.reused = reused
        self.head_only = head_only
        loop = asyncio.get_running_loop()
        self.headers_ready = loop.create_future()
        if timeout:
            self.timer = loop.call_later(timeout, self._timed_out)
        assert self.transport is not None
        self.transport.write(request)
        return self.headers_ready

    def _timed_out(self) -> None:
        self.timer = None
        self._fail(ClientError("upstream timed out"))

    def _finish(self, reusable: bool = False) -> None:
        self.complete = True
        self.reusable = reusable and not self.closed
        if self.timer is not None:
            self.timer.cancel()
            self.timer = None
        self._wake()

    def _fail(self, error: ClientError) -> None:
        if self.complete or self.error is not None:
            return
        self.error = error
        if self.timer is not None:
            self.timer.cancel()
            self.timer = None
        if self.headers_ready is not None and not self.headers_ready.done():
            self.headers_ready.set_exception(error)
            self.headers_ready.exception()  # retrieved here; the sender re-raises it
        self._wake()
        self.abort()

    def _wake(self) -> None:
        waiter = self.waiter
        if waiter is not None and not waiter.done():
            waiter.set_result(None)

    def abort(self) -> None:
        self.closed = True
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
            self.transport.resume_reading()
        return data


class Headers(Mapping[str, str]):
    """A read-only, case-insensitive view of the received header pairs.

    An answer has a dozen headers and the relay looks up one or two, so a scan beats building a
    dict for every response. items() lists repeated names once per value."""

    __slots__ = ("_raw",)

    def __init__(self, raw: list[tuple[bytes, bytes]]) -> None:
        self._raw = raw

    def __getitem__(self, key: str) -> str:
        values = self.getall(key)
        if not values:
            raise KeyError(key)
        return values[0]

    def getall(self, key: str) -> list[str]:
        low = key.lower().encode("latin-1")
        return [v.decode("latin-1") for n, v in self._raw if n.lower() == low]

    def __iter__(self) -> Iterator[str]:
        seen: set[bytes] = set()
        for name, _ in self._raw:
            if name.lower() not in seen:
                seen.add(name.lower())
                yield name.decode("latin-1")

    def __len__(self) -> int:
        return len({n.lower() for n, _ in self._raw})

    def items(self) -> list[tuple[str, str]]:  # type: ignore[override]
        return [(n.decode("latin-1"), v.decode("latin-1")) for n, v in self._raw]


class Response:
    """An answer whose headers have arrived; the body is read with read() or chunks()."""

    __slots__ = ("status", "raw_headers", "_conn", "_released")

    def __init__(self, conn: Connection) -> None:
        self._conn = conn
        self._released = False
        self.status = conn.status
        self.raw_headers = conn.raw_headers  # [(name, value)] as received; the relay copies these

    @property
    def headers(self) -> "Headers":
        return Headers(self.raw_headers)

    def header(self, lower_name: bytes) -> str:
        for name, value in self.raw_headers:
            if name.lower() == lower_name:
                return value.decode("latin-1")
        return ""

    async def read(self) -> bytes:
        conn = self._conn
        try:
            while not conn.complete:
                if conn.error is not None:
                    raise conn.error
                await conn.wait()
        except BaseException:
            self.close()
            raise
        if conn.error is not None:
            raise conn.error
        data = conn.take()
        self.close()
        return data

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
    """Keep-alive connections per (scheme, host, port); the newest idle one is reused first."""

    def __init__(self, connect_timeout: float = 30.0, timeout: float = 0.0, ssl_context: ssl.SSLContext | None = None) -> None:
        self.connect_timeout = connect_timeout
        self.timeout = timeout
        self._idle: dict[tuple[str, str, int], list[Connection]] = {}
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

    async def request(self, method: str, url: str, headers: dict[str, str], body: bytes | None) -> Response:
        target = self.target(url)
        raw = _request_bytes(method, target, headers, body)
        head_only = method == "HEAD"
        for attempt in (0, 1):
            conn, reused = await self._acquire(target)
            try:
                await conn.start(raw, head_only, self.timeout, reused)
            except _StaleConnection:
                if attempt == 0:
                    continue  # the keep-alive race: nothing was processed, so send it again once
                raise
            except BaseException:  # cancelled mid-exchange: the connection's state is unknown
                conn.abort()
                raise
            return Response(conn)
        raise ClientError("unreachable")

    async def _acquire(self, target: Target) -> tuple[Connection, bool]:
        idle = self._idle.get(target.key)
        if idle:
            deadline = time.monotonic() - IDLE_SECONDS
            while idle:
                conn = idle.pop()
                if not conn.closed and conn.idle_since >= deadline and conn.transport is not None and not conn.transport.is_closing():
                    return conn, True
                conn.abort()
        loop = asyncio.get_running_loop()
        conn = Connection(self, target.key)
        ssl_ctx = self._ssl_context() if target.tls else None
        try:
            await asyncio.wait_for(
                loop.create_connection(lambda: conn, target.host, target.port, ssl=ssl_ctx,
                                       server_hostname=target.host if ssl_ctx else None),
                self.connect_timeout or None,
            )
        except asyncio.TimeoutError as exc:
            raise ClientError(f"connect to {target.host}:{target.port} timed out") from exc
        except (OSError, ssl.SSLError) as exc:
            raise ClientError(f"connect to {target.host}:{target.port} failed: {exc}") from exc
        return conn, False

    def _ssl_context(self) -> ssl.SSLContext:
        if self._ssl is None:
            self._ssl = ssl.create_default_context()
        return self._ssl

    def release(self, conn: Connection) -> None:
        idle = self._idle.setdefault(conn.key, [])
        if len(idle) >= MAX_IDLE_PER_HOST:
            conn.abort()
            return
        conn.idle_since = time.monotonic()
        idle.append(conn)

    def forget(self, conn: Connection) -> None:
        idle = self._idle.get(conn.key)
        if idle and conn in idle:
            idle.remove(conn)

    def close(self) -> None:
        for idle in self._idle.values():
            for conn in idle:
                conn.abort()
        self._idle.clear()


def _request_bytes(method: str, target: Target, headers: dict[str, str], body: bytes | None) -> bytes:
    lines = [f"{method} {target.path} HTTP/1.1", f"Host: {target.host_header}"]
    given = set()
    for name, value in headers.items():
        low = name.lower()
        if low in ("host", "content-length", "transfer-encoding", "connection"):
            continue  # framing is this client's job
        if "\n" in value or "\r" in value or "\n" in name or "\r" in name:
            raise ClientError(f"header {name!r} holds a line break")
        given.add(low)
        lines.append(f"{name}: {value}")
    for name, value in DEFAULT_HEADERS.items():
        if name.lower() not in given:
            lines.append(f"{name}: {value}")
    if body or method in ("POST", "PUT", "PATCH"):
        lines.append(f"Content-Length: {len(body or b'')}")
    lines.append("\r\n")
    return "\r\n".join(lines).encode("utf-8") + (body or b"")
