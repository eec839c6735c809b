"""One HTTP/1.1 connection of h1client's pool: an asyncio protocol feeding httptools' parser.

It holds the caps on what an upstream sends while an answer is read: header count and size, the
decoded body (`Pool.max_answer`), the bytes on the wire, and the time without a byte and the
whole-exchange deadline (checked by the pool's sweep, see Pool.watch). Bytes after a complete answer
end it.
"""

from __future__ import annotations

import asyncio
import time
import zlib
from collections import deque
from typing import TYPE_CHECKING

import httptools

from shared.relay.h1parts import AnswerTooLarge, ClientError, Decoder, decoder_for

if TYPE_CHECKING:
    from shared.relay.h1client import Pool

HIGH_WATER = 256 * 1024  # buffered body bytes before the socket stops being read (streams)
MAX_HEADERS = 128  # header lines of one answer, interim (1xx) answers included
MAX_HEAD_BYTES = 64 * 1024  # bytes before the end of the headers


class NotSent(ClientError):
    """The connection proved closed before any byte of the request reached it."""


class _Refused(ClientError):
    """Raised inside a parser callback to stop parsing at once; carries the exchange's error."""


class _Leftover(ClientError):
    """Bytes after a complete answer, or before a request: the connection is out of step."""


class Connection(asyncio.Protocol):
    """One keep-alive connection; carries at most one exchange at a time."""

    def __init__(self, pool: Pool, key: tuple[str, str, int]) -> None:
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
        self.deadline = 0.0
        self.last_read = 0.0  # when the sweep last saw `wire` grow (or the exchange started)
        self.seen_wire = 0

    # asyncio.Protocol

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport  # type: ignore[assignment]

    def data_received(self, data: bytes) -> None:
        self.wire += len(data)
        try:
            self.parser.feed_data(data)
        except httptools.HttpParserCallbackError as exc:  # a cap or _Leftover, raised by a callback
            cause = exc.__context__
            self._fail(cause if isinstance(cause, ClientError) else ClientError(f"malformed upstream response: {cause!r}"))
        except httptools.HttpParserUpgrade:
            self._fail(ClientError("upstream switched protocols"))
        except httptools.HttpParserError as exc:
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
            raise _Leftover("upstream sent bytes outside an answer")

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
        length = 0
        for name, value in self.raw_headers:
            low = name.lower()
            if low == b"content-length":
                has_length = True
                length = int(value) if value.isdigit() else 0  # httptools refuses a bad one itself
            elif low == b"transfer-encoding":
                chunked = b"chunked" in value.lower()
            elif low == b"content-encoding" and not self.head_only:
                self.decode = decoder_for(value)
        # A head longer than the cap that arrived in one read (over several, data_received stops it).
        if self.wire > MAX_HEAD_BYTES and sum(len(n) + len(v) for n, v in self.raw_headers) > MAX_HEAD_BYTES:
            raise _Refused(f"upstream answer headers exceed {MAX_HEAD_BYTES} bytes")
        self.eof_body = not (has_length or chunked or status in (204, 304))
        declared = has_length and not chunked and self.decode is None and not self.head_only and status not in (204, 304)
        if declared and length > self.limit:
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

        Raises NotSent when the connection proves closed with none of the request sent: it was
        closing before the write, or the kernel refused the first send (the transport closes inside
        write() only then; any later failure comes after bytes may have left)."""
        assert self.transport is not None
        if self.closed or self.transport.is_closing():
            raise NotSent("upstream closed the connection before the request")
        self._reset()
        self.head_only = head_only
        loop = asyncio.get_running_loop()
        self.headers_ready = loop.create_future()
        self.last_read = now = time.monotonic()
        self.deadline = now + timeout if timeout else 0.0
        self.pool.watch(self, loop)
        self.transport.write(request)
        if self.transport.is_closing() and self.error is None and not self.status:
            self.pool.unwatch(self)
            raise NotSent("kept-alive connection refused the request")
        return self.headers_ready

    def check_time(self, now: float) -> None:
        """The pool's sweep: fail the exchange past its deadline or after too long without a byte.

        Bytes are noticed by the growth of `wire`, so reading a socket costs no clock call."""
        if self.complete or self.error is not None:
            return
        if self.wire != self.seen_wire:
            self.seen_wire = self.wire
            self.last_read = now
        if self.deadline and now >= self.deadline:
            self._fail(ClientError("upstream timed out"))
        elif self.paused:  # the reader is slow, not the upstream
            self.last_read = now
        elif now - self.last_read >= self.idle_timeout:
            self._fail(ClientError(f"upstream timed out: no byte for {self.idle_timeout:g} s"))

    def _finish(self, reusable: bool = False) -> None:
        self.complete = True
        self.reusable = reusable and not self.closed
        self.pool.unwatch(self)
        self._wake()

    def _fail(self, error: ClientError) -> None:
        """End the exchange with `error`; after a complete answer, only the connection is dropped."""
        if self.complete or self.error is not None:
            self.discard()
            return
        self.error = error
        self.pool.unwatch(self)
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
            self.transport.resume_reading()
        return data
