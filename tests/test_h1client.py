"""The relay's pooled HTTP/1.1 client against a scripted raw TCP server.

Each test's server answers with exact bytes, so framing (Content-Length, chunked, end of
connection), compression, keep-alive reuse and the stale-connection retry are checked on the wire.
"""

from __future__ import annotations

import asyncio
import gzip
import zlib
from typing import Awaitable, Callable

import pytest

from shared.relay import h1client
from shared.relay.types import UpstreamRequest
from shared.relay.upstream import NativeUpstream, UpstreamUnavailable

Handler = Callable[[asyncio.StreamReader, asyncio.StreamWriter], Awaitable[None]]


class Script:
    """A TCP server whose handler reads requests and writes raw answers; counts connections."""

    def __init__(self, handler: Handler) -> None:
        self.handler = handler
        self.connections = 0
        self.requests: list[bytes] = []
        self.server: asyncio.base_events.Server | None = None

    async def __aenter__(self) -> "Script":
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
    events = [b"data: {\"n\":%d}\n\n" % i for i in range(3)]
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


@pytest.mark.parametrize("encoding,compress", [
    ("gzip", gzip.compress),
    ("deflate", zlib.compress),
    ("deflate", lambda d: zlib.compress(d)[2:-4]),  # raw deflate, as some servers send it
])
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
    now = datetime.datetime.now(datetime.timezone.utc)
    cert = (
        x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(key.public_key())
        .serial_number(x509.random_serial_number()).not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + datetime.timedelta(days=1))
        .add_extension(x509.SubjectAlternativeName([x509.DNSName("localhost"), x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]), critical=False)
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
                length = int(next(l for l in head.split(b"\r\n") if l.startswith(b"Content-Length:")).split(b":")[1])
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
