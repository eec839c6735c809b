"""The relay's pooled HTTP/1.1 client against a scripted raw TCP server.

Each test's server answers with exact bytes, so framing (Content-Length, chunked, end of
connection), compression, keep-alive reuse and the stale-connection retry are checked on the wire.
"""

from __future__ import annotations

import asyncio
import gzip
import time
import zlib
from collections.abc import Awaitable, Callable

import pytest

from shared.relay import h1client
from shared.relay.types import UpstreamRequest
from shared.relay.upstream import (
    Limits,
    NativeUpstream,
    UpstreamTooLarge,
    UpstreamUnavailable,
)

Handler = Callable[[asyncio.StreamReader, asyncio.StreamWriter], Awaitable[None]]


class Script:
    """A TCP server whose handler reads requests and writes raw answers; counts connections."""

    def __init__(self, handler: Handler) -> None:
        self.handler = handler
        self.connections = 0
        self.requests: list[bytes] = []
        self.server: asyncio.base_events.Server | None = None

    async def __aenter__(self) -> Script:
        async def on_conn(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
            self.connections += 1
            try:
                await self.handler(reader, writer)
            except (ConnectionError, asyncio.IncompleteReadError):
                pass
            finally:
                writer.close()

        self.server = await asyncio.start_server(on_conn, "127.0.0.1", 0)
        return self

    async def __aexit__(self, *exc: object) -> None:
        assert self.server is not None
        self.server.close()

    @property
    def url(self) -> str:
        assert self.server is not None
        return f"http://127.0.0.1:{self.server.sockets[0].getsockname()[1]}"

    async def read_request(self, reader: asyncio.StreamReader) -> bytes:
        head = await reader.readuntil(b"\r\n\r\n")
        length = 0
        for line in head.split(b"\r\n"):
            if line.lower().startswith(b"content-length:"):
                length = int(line.split(b":", 1)[1])
        body = await reader.readexactly(length) if length else b""
        self.requests.append(head + body)
        return head + body


def answer(body: bytes, extra: bytes = b"") -> bytes:
    return b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n" + extra + b"Content-Length: %d\r\n\r\n" % len(body) + body


def keep_answering(script_ref: list, reply: bytes) -> Handler:
    async def handler(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        while True:
            await script_ref[0].read_request(reader)
            writer.write(reply)
            await writer.drain()

    return handler


def answer_once(script_ref: list, reply: bytes) -> Handler:
    """Read one request, write `reply`, then close the connection."""

    async def handler(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await script_ref[0].read_request(reader)
        writer.write(reply)
        await writer.drain()

    return handler


def req(url: str, method: str = "POST", headers: dict[str, str] | None = None) -> UpstreamRequest:
    return UpstreamRequest(method=method, url=url, headers=headers or {"Content-Type": "application/json"}, body=None)


async def test_keep_alive_reuses_one_connection_and_frames_the_request():
    ref: list = []
    async with Script(keep_answering(ref, answer(b'{"ok":1}', b"X-Multi: a\r\nX-Multi: b\r\n"))) as script:
        ref.append(script)
        client = NativeUpstream()
        for _ in range(5):
            resp = await client.send(req(script.url + "/v1/chat/completions?x=1", headers={"Authorization": "Bearer sk-1"}), b'{"a":1}')
            assert resp.status == 200
            assert resp.content_type == "application/json"
            assert resp.headers.getall("x-multi") == ["a", "b"]
            assert await resp.read() == b'{"ok":1}'
        await client.close()
    assert script.connections == 1
    first = script.requests[0]
    assert first.startswith(b"POST /v1/chat/completions?x=1 HTTP/1.1\r\n")
    assert b"\r\nAuthorization: Bearer sk-1\r\n" in first
    assert b"\r\nContent-Length: 7\r\n" in first and first.endswith(b'\r\n\r\n{"a":1}')
    assert b"\r\nHost: 127.0.0.1:" in first


async def test_chunked_body_streams_in_pieces_and_the_connection_is_reused():
    ref: list = []
    events = [b'data: {"n":%d}\n\n' % i for i in range(3)]
    gate = asyncio.Event()

    async def handler(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        while True:
            await ref[0].read_request(reader)
            writer.write(b"HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\nTransfer-Encoding: chunked\r\n\r\n")
            for event in events:
                writer.write(b"%x\r\n%s\r\n" % (len(event), event))
                await writer.drain()
                await gate.wait()  # the client must see each piece before the next is sent
                gate.clear()
            writer.write(b"0\r\n\r\n")
            await writer.drain()

    async with Script(handler) as script:
        ref.append(script)
        client = NativeUpstream()
        for _ in range(2):
            resp = await client.send(req(script.url + "/s"), b"{}")
            got = []
            async for batch in resp.line_batches():
                got.extend(line for line in batch if line)
                gate.set()
            resp.close()
            assert got == [e.strip() for e in events]
        await client.close()
    assert script.connections == 1


async def test_body_until_connection_close_and_no_reuse():
    ref: list = []

    async with Script(answer_once(ref, b"HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\n\r\nall of it")) as script:
        ref.append(script)
        client = NativeUpstream()
        for _ in range(2):
            resp = await client.send(req(script.url + "/"), b"")
            assert await resp.read() == b"all of it"
        await client.close()
    assert script.connections == 2


@pytest.mark.parametrize(
    "encoding,compress",
    [
        ("gzip", gzip.compress),
        ("deflate", zlib.compress),
        ("deflate", lambda d: zlib.compress(d)[2:-4]),  # raw deflate, as some servers send it
    ],
)
async def test_compressed_bodies_are_decoded(encoding, compress):
    ref: list = []
    payload = b'{"text":"' + b"x" * 5000 + b'"}'
    reply = answer(compress(payload), b"Content-Encoding: " + encoding.encode() + b"\r\n")
    async with Script(keep_answering(ref, reply)) as script:
        ref.append(script)
        client = NativeUpstream()
        resp = await client.send(req(script.url + "/"), b"{}")
        assert await resp.read() == payload
        await client.close()
    assert b"Accept-Encoding: gzip, deflate" in script.requests[0]


async def wait_until(check: Callable[[], bool], tries: int = 2000) -> None:
    """Yield to the loop until `check()` holds (bounded, so a bug fails instead of hanging)."""
    for _ in range(tries):
        if check():
            return
        await asyncio.sleep(0.005)
    raise AssertionError("condition not reached")


async def test_a_kept_alive_connection_seen_closed_is_replaced_before_the_request_is_written():
    ref: list = []

    # One answer, then the kept-alive connection is closed, as a server's idle timeout does.
    async with Script(answer_once(ref, answer(b"one"))) as script:
        ref.append(script)
        client = NativeUpstream()
        resp = await client.send(req(script.url + "/"), b"{}")
        conn = resp._resp._conn
        assert await resp.read() == b"one"
        await wait_until(lambda: conn.closed)
        resp = await client.send(req(script.url + "/"), b"{}")
        assert await resp.read() == b"one"
        await client.close()
    assert script.connections == 2 and len(script.requests) == 2


async def test_a_request_written_on_a_reused_connection_is_never_sent_twice():
    """The upstream reads the second request and closes without answering: it may have run the
    (paid) call, so the client reports the failure instead of sending the request again."""
    ref: list = []

    async def handler(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await ref[0].read_request(reader)
        writer.write(answer(b"one"))
        await writer.drain()
        await ref[0].read_request(reader)  # read, maybe processed, never answered

    async with Script(handler) as script:
        ref.append(script)
        client = NativeUpstream()
        resp = await client.send(req(script.url + "/"), b'{"n":1}')
        assert await resp.read() == b"one"
        with pytest.raises(UpstreamUnavailable):
            await client.send(req(script.url + "/"), b'{"n":2}')
        await client.close()
    assert script.connections == 1
    assert [r.endswith(b'{"n":2}') for r in script.requests] == [False, True]


async def test_a_connection_closed_mid_body_is_an_error():
    ref: list = []

    async with Script(answer_once(ref, b"HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\nonly a part")) as script:
        ref.append(script)
        client = NativeUpstream()
        resp = await client.send(req(script.url + "/"), b"{}")
        with pytest.raises(UpstreamUnavailable):
            await resp.read()
        await client.close()


async def test_timeouts_refusals_bad_urls_and_header_injection_are_upstream_errors():
    async def silent(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await reader.read(65536)
        await asyncio.Event().wait()

    async with Script(silent) as script:
        client = NativeUpstream(timeout=1)
        with pytest.raises(UpstreamUnavailable, match="timed out"):
            await client.send(req(script.url + "/"), b"{}")
        await client.close()
        url = script.url
    client = NativeUpstream()
    with pytest.raises(UpstreamUnavailable, match="failed"):
        await client.send(req(url + "/"), b"{}")  # the server is gone: connection refused
    with pytest.raises(UpstreamUnavailable, match="unsupported URL"):
        await client.send(req("ftp://example.com/x"), b"{}")
    with pytest.raises(UpstreamUnavailable, match="line break"):
        await client.send(req("http://127.0.0.1:1/", headers={"X-Evil": "a\r\nInjected: 1"}), b"{}")
    await client.close()


async def test_malformed_answers_and_head_requests():
    async def garbage(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await reader.readuntil(b"\r\n\r\n")
        writer.write(b"NOT HTTP AT ALL\r\n\r\n")
        await writer.drain()
        await asyncio.Event().wait()

    async with Script(garbage) as script:
        client = NativeUpstream()
        with pytest.raises(UpstreamUnavailable, match="malformed"):
            await client.send(req(script.url + "/"), b"{}")
        await client.close()

    ref: list = []

    async def head(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await ref[0].read_request(reader)
        writer.write(b"HTTP/1.1 200 OK\r\nContent-Length: 1234\r\n\r\n")
        await writer.drain()
        await asyncio.Event().wait()

    async with Script(head) as script:
        ref.append(script)
        client = NativeUpstream()
        resp = await client.send(req(script.url + "/", method="HEAD"), b"")
        assert resp.status == 200 and resp.headers["Content-Length"] == "1234"
        assert await resp.read() == b""
        await client.close()
    assert b"Content-Length" not in script.requests[0]


async def test_a_slow_reader_pauses_the_socket_and_still_gets_every_byte():
    ref: list = []
    piece = b"y" * 65536
    pieces = 40  # 2.5 MB: well past the high-water mark

    async def handler(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await ref[0].read_request(reader)
        writer.write(b"HTTP/1.1 200 OK\r\nContent-Length: %d\r\n\r\n" % (len(piece) * pieces))
        for _ in range(pieces):
            writer.write(piece)
            await writer.drain()

    async with Script(handler) as script:
        ref.append(script)
        client = NativeUpstream()
        resp = await client.send(req(script.url + "/"), b"{}")
        conn = resp._resp._conn
        for _ in range(2000):  # nobody reads yet: the buffer fills until the socket is paused
            if conn.paused:
                break
            await asyncio.sleep(0.005)
        assert conn.paused and conn.buffered < len(piece) * pieces
        total = 0
        async for chunk in resp.chunks():
            total += len(chunk)
        assert total == len(piece) * pieces and not conn.paused
        await client.close()


def test_target_parsing():
    t = h1client.Target("https://api.example.com/v1/x?y=1")
    assert (t.tls, t.port, t.host_header, t.path) == (True, 443, "api.example.com", "/v1/x?y=1")
    t = h1client.Target("http://[::1]:8080")
    assert (t.host, t.port, t.host_header, t.path) == ("::1", 8080, "[::1]:8080", "/")
    with pytest.raises(h1client.ClientError):
        h1client.Target("http://host:notaport/")


async def test_a_configured_proxy_sends_through_aiohttp_in_absolute_form():
    ref: list = []
    async with Script(keep_answering(ref, answer(b"via proxy"))) as proxy:
        ref.append(proxy)
        client = NativeUpstream(proxy=proxy.url)
        resp = await client.send(req("http://upstream.invalid:9/v1/x"), b"{}")
        assert await resp.read() == b"via proxy"
        resp.close()
        await client.close()
    assert proxy.requests[0].startswith(b"POST http://upstream.invalid:9/v1/x HTTP/1.1\r\n")


def self_signed(tmp_path) -> tuple[str, str]:
    """A certificate for localhost / 127.0.0.1 and its key, as PEM files."""
    import datetime
    import ipaddress

    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "localhost")])
    now = datetime.datetime.now(datetime.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + datetime.timedelta(days=1))
        .add_extension(
            x509.SubjectAlternativeName([x509.DNSName("localhost"), x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]), critical=False
        )
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    cert_path, key_path = tmp_path / "cert.pem", tmp_path / "key.pem"
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()))
    return str(cert_path), str(key_path)


async def test_https_verifies_the_certificate_and_keeps_the_tls_connection(tmp_path):
    import ssl

    cert, key = self_signed(tmp_path)
    server_ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    server_ctx.load_cert_chain(cert, key)
    connections = 0
    seen_hosts: list[bytes] = []

    async def handler(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        nonlocal connections
        connections += 1
        try:
            while True:
                head = await reader.readuntil(b"\r\n\r\n")
                seen_hosts.extend(line for line in head.split(b"\r\n") if line.startswith(b"Host:"))
                length = int(next(line for line in head.split(b"\r\n") if line.startswith(b"Content-Length:")).split(b":")[1])
                await reader.readexactly(length)
                writer.write(answer(b"secure"))
                await writer.drain()
        except (asyncio.IncompleteReadError, ConnectionError, ssl.SSLError):
            writer.close()

    server = await asyncio.start_server(handler, "127.0.0.1", 0, ssl=server_ctx)
    port = server.sockets[0].getsockname()[1]
    try:
        pool = h1client.Pool(ssl_context=ssl.create_default_context(cafile=cert))
        for _ in range(3):
            resp = await pool.request("POST", f"https://localhost:{port}/v1/x", {}, b"{}")
            assert resp.status == 200 and await resp.read() == b"secure"
        pool.close()
        assert connections == 1 and seen_hosts[0] == f"Host: localhost:{port}".encode()
        untrusting = h1client.Pool()  # the system's CAs do not know this certificate
        with pytest.raises(h1client.ClientError, match="CERTIFICATE_VERIFY_FAILED|certificate verify failed"):
            await untrusting.request("POST", f"https://localhost:{port}/v1/x", {}, b"{}")
        untrusting.close()
    finally:
        server.close()


def serve_once(reply_parts: list[bytes]) -> Handler:
    """Read one request, write the answer in the given pieces, then wait for the client to close."""

    async def handler(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await reader.readuntil(b"\r\n\r\n")
        for part in reply_parts:
            writer.write(part)
            await writer.drain()
        await reader.read()

    return handler


@pytest.mark.parametrize("framing", ["length", "chunked", "close"])
async def test_a_large_answer_is_read_whole(framing):
    """An answer far past the read-pause mark completes through read() (it used to hang there)."""
    body = bytes(range(256)) * (10 * 1024)  # 2.5 MiB
    head = b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n"
    if framing == "length":
        parts = [head + b"Content-Length: %d\r\n\r\n" % len(body), body]
    elif framing == "chunked":
        pieces = [body[i : i + 100_000] for i in range(0, len(body), 100_000)]
        parts = [head + b"Transfer-Encoding: chunked\r\n\r\n", *(b"%x\r\n%s\r\n" % (len(p), p) for p in pieces), b"0\r\n\r\n"]
    else:
        parts = [head + b"Connection: close\r\n\r\n", body]

    async def handler(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await reader.readuntil(b"\r\n\r\n")
        for part in parts:
            writer.write(part)
            await writer.drain()
        if framing == "close":
            writer.close()

    async with Script(handler) as script:
        client = NativeUpstream()
        resp = await client.send(req(script.url + "/"), b"{}")
        assert await asyncio.wait_for(resp.read(), 60) == body
        await client.close()


async def test_over_the_cap_a_declared_length_is_refused_at_the_headers_and_a_chunked_body_at_the_cap():
    async with Script(serve_once([b"HTTP/1.1 200 OK\r\nContent-Length: 1001\r\n\r\n"])) as script:
        pool = h1client.Pool(max_answer=1000)
        with pytest.raises(h1client.AnswerTooLarge, match="1001 bytes exceeds the 1000-byte cap"):
            await pool.request("POST", script.url + "/", {}, b"{}")
        pool.close()
    chunk = b"z" * 600
    reply = [b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n", b"258\r\n" + chunk + b"\r\n", b"258\r\n" + chunk + b"\r\n"]
    async with Script(serve_once(reply)) as script:
        client = NativeUpstream(limits=Limits(max_answer=1000))
        resp = await client.send(req(script.url + "/"), b"{}")
        with pytest.raises(UpstreamTooLarge, match="exceeds the 1000-byte cap"):
            await resp.read()
        await client.close()


@pytest.mark.parametrize("encoding,compress", [("gzip", gzip.compress), ("deflate", zlib.compress)])
async def test_a_compression_bomb_stops_at_the_cap(encoding, compress):
    bomb = compress(b"\0" * (200 * 1024 * 1024))  # 200 MiB of zeros in ~200 KB
    reply = answer(bomb, b"Content-Encoding: " + encoding.encode() + b"\r\n")
    async with Script(serve_once([reply])) as script:
        pool = h1client.Pool(max_answer=1024 * 1024)
        resp = await pool.request("POST", script.url + "/", {}, b"{}")
        conn = resp._conn
        with pytest.raises(h1client.AnswerTooLarge):
            await resp.read()
        assert conn.received == 1024 * 1024 + 1  # inflated one byte past the cap, never further
        pool.close()


async def test_a_truncated_or_corrupt_compressed_body_is_refused():
    whole = gzip.compress(b'{"a":"' + b"q" * 4000 + b'"}')
    for body in (whole[: len(whole) // 2], whole[:10] + b"\xff" * 40):
        async with Script(serve_once([answer(body, b"Content-Encoding: gzip\r\n")])) as script:
            client = NativeUpstream()
            resp = await client.send(req(script.url + "/"), b"{}")
            with pytest.raises(UpstreamUnavailable, match="bad compressed body"):
                await resp.read()
            await client.close()


async def test_header_count_and_size_are_capped():
    many = b"".join(b"X-H%d: v\r\n" % i for i in range(h1client.MAX_HEADERS + 1))
    huge = b"X-Big: " + b"b" * h1client.MAX_HEAD_BYTES + b"\r\n"
    for extra, match in ((many, "more than 128 headers"), (huge, "headers exceed 65536 bytes")):
        async with Script(serve_once([answer(b"{}", extra)])) as script:
            client = NativeUpstream()
            with pytest.raises(UpstreamUnavailable, match=match):
                await client.send(req(script.url + "/"), b"{}")
            await client.close()


async def test_trailers_are_not_headers_and_header_values_lose_surrounding_whitespace():
    reply = b"HTTP/1.1 200 OK\r\nX-Pad:   padded \t\r\nTransfer-Encoding: chunked\r\n\r\n2;ext=1\r\nok\r\n0\r\nX-Trailer: t\r\n\r\n"
    async with Script(serve_once([reply])) as script:
        pool = h1client.Pool()
        resp = await pool.request("POST", script.url + "/", {}, b"{}")
        assert await resp.read() == b"ok"
        assert resp.raw_headers == [(b"X-Pad", b"padded"), (b"Transfer-Encoding", b"chunked")]
        pool.close()


async def test_bytes_after_an_answer_end_the_connection():
    ref: list = []

    async def leftover_in_the_same_write(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        while True:
            await ref[0].read_request(reader)
            writer.write(answer(b"hi") + b"HTTP/1.1 200 OK\r\n")
            await writer.drain()

    async def leftover_while_idle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        while True:
            await ref[0].read_request(reader)
            writer.write(answer(b"hi"))
            await writer.drain()
            await ref[1].wait()  # the client has put the connection back in its pool
            writer.write(b"HTTP/1.1 408 Request Timeout\r\n\r\n")
            await writer.drain()

    for handler in (leftover_in_the_same_write, leftover_while_idle):
        ref[:] = []
        released = asyncio.Event()
        async with Script(handler) as script:
            ref += [script, released]
            pool = h1client.Pool()
            resp = await pool.request("POST", script.url + "/", {}, b"{}")
            conn = resp._conn
            assert await resp.read() == b"hi"
            released.set()
            await wait_until(lambda conn=conn: conn.closed)
            resp = await pool.request("POST", script.url + "/", {}, b"{}")
            assert await resp.read() == b"hi"
            pool.close()
        assert script.connections == 2, handler.__name__


async def test_the_connections_per_host_are_capped_and_a_waiting_request_gets_a_freed_one():
    gate = asyncio.Event()
    busy = 0
    most = 0

    async def handler(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        nonlocal busy, most
        while True:
            await reader.readuntil(b"\r\n\r\n")
            await reader.readexactly(2)
            busy += 1
            most = max(most, busy)
            await gate.wait()
            busy -= 1
            writer.write(answer(b"ok"))
            await writer.drain()

    async with Script(handler) as script:
        pool = h1client.Pool(max_conns_per_host=2)

        async def one() -> bytes:
            resp = await pool.request("POST", script.url + "/", {}, b"{}")
            return await resp.read()

        tasks = [asyncio.ensure_future(one()) for _ in range(5)]
        await wait_until(lambda: busy == 2)
        assert pool.open_connections(script.url) == 2 and not any(t.done() for t in tasks)
        gate.set()
        assert await asyncio.gather(*tasks) == [b"ok"] * 5
        assert most == 2 and script.connections == 2
        pool.close()


async def test_no_byte_for_the_idle_timeout_fails_the_exchange_even_without_a_whole_timeout():
    async with Script(serve_once([b"HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nabc"])) as script:
        pool = h1client.Pool(timeout=0, idle_timeout=0.2)
        resp = await pool.request("POST", script.url + "/", {}, b"{}")
        with pytest.raises(h1client.ClientError, match="no byte for 0.2 s"):
            await resp.read()
        pool.close()


async def test_a_slow_reader_is_not_an_idle_upstream():
    """The idle clock only runs while the socket is read: a paused socket (a slow client of the
    relay) is not the upstream's silence. The pool's sweep is driven by hand, so no wall time passes."""
    piece = b"y" * 65536
    reply = [b"HTTP/1.1 200 OK\r\nContent-Length: %d\r\n\r\n" % (len(piece) * 40), *[piece] * 40]
    async with Script(serve_once(reply)) as script:
        pool = h1client.Pool(idle_timeout=600)
        resp = await pool.request("POST", script.url + "/", {}, b"{}")
        conn = resp._conn
        await wait_until(lambda: conn.paused)
        conn.check_time(time.monotonic())  # a sweep notes the bytes read so far
        conn.last_read -= 10_000  # as if nothing had been read for hours
        conn.check_time(time.monotonic())
        assert conn.error is None
        total = 0
        async for chunk in resp.chunks():
            total += len(chunk)
        assert total == len(piece) * 40
        pool.close()
    async with Script(serve_once([b"HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\n"])) as script:
        pool = h1client.Pool(idle_timeout=600)
        resp = await pool.request("POST", script.url + "/", {}, b"{}")
        conn = resp._conn
        conn.check_time(time.monotonic())
        conn.last_read -= 10_000
        conn.check_time(time.monotonic())  # not paused: the upstream has been silent too long
        with pytest.raises(h1client.ClientError, match="no byte for 600 s"):
            await resp.read()
        pool.close()


async def test_the_aiohttp_client_has_the_same_answer_cap():
    from shared.relay.upstream_aiohttp import AiohttpUpstream

    ref: list = []
    async with Script(keep_answering(ref, answer(b"a" * 1500))) as script:
        ref.append(script)
        client = AiohttpUpstream(limits=Limits(max_answer=1000))
        resp = await client.send(req(script.url + "/"), b"{}")
        with pytest.raises(UpstreamTooLarge, match="1000-byte cap"):
            await resp.read()
        await client.close()
        client = AiohttpUpstream(limits=Limits(max_answer=1500))
        resp = await client.send(req(script.url + "/"), b"{}")
        assert await resp.read() == b"a" * 1500
        await client.close()
