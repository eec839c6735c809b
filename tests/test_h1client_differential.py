"""The relay's HTTP/1.1 client against a reference parser (h11), on generated answers.

hypothesis builds answers (status, an optional 100 Continue first, headers with surrounding
whitespace, a body framed by Content-Length, by chunks of random sizes with extensions and
trailers, or by the end of the connection, identity, gzip or deflate (wrapped or raw), sometimes
cut short, sometimes over a small answer cap), writes them over a real socket in random pieces with
pauses, and reads them with read() or chunks() with pauses of its own. The same bytes go to h11 in
the same pieces, decoded with zlib in one go. Both must give the same status, headers and body, or
refuse alike: "too large" when the decoded body passes the cap, "refused" for a broken answer.
The 64 MiB cases are two explicit tests at the end.
"""

from __future__ import annotations

import asyncio
import zlib
from dataclasses import dataclass, field

import h11
import pytest
import uvloop
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from shared.relay import h1client

TOKEN = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789!#$%&'*+-.^_`|~"
VALUE = "".join(chr(c) for c in range(0x21, 0x7F))
FRAMING_NAMES = {b"content-length", b"transfer-encoding", b"content-encoding", b"connection", b"keep-alive", b"trailer"}


@dataclass
class Case:
    status: int
    interim: bool
    headers: list[tuple[bytes, bytes]]  # as sent: values may carry whitespace around them
    framing: str  # length | chunked | close
    encoding: str  # identity | gzip | deflate | raw-deflate
    body: bytes  # the payload before encoding
    chunk_sizes: list[int] = field(default_factory=list)
    extensions: bool = False
    trailers: bool = False
    write_sizes: list[int] = field(default_factory=list)
    pauses: list[bool] = field(default_factory=list)
    cut: float | None = None  # cut the answer at this fraction of its bytes, then close
    cap: int = h1client.MAX_ANSWER
    mode: str = "read"  # read | chunks
    read_pauses: list[int] = field(default_factory=list)
    uvloop: bool = False


def encode(case: Case) -> bytes:
    if case.encoding == "gzip":
        return zlib.compress(case.body, 6, 16 + zlib.MAX_WBITS)
    if case.encoding == "deflate":
        return zlib.compress(case.body)
    if case.encoding == "raw-deflate":
        obj = zlib.compressobj(6, zlib.DEFLATED, -zlib.MAX_WBITS)
        return obj.compress(case.body) + obj.flush()
    return case.body


def answer_bytes(case: Case) -> bytes:
    out = b"HTTP/1.1 100 Continue\r\n\r\n" if case.interim else b""
    out += b"HTTP/1.1 %d Whatever\r\n" % case.status
    for name, value in case.headers:
        out += name + b":" + value + b"\r\n"
    no_body = case.status in (204, 304)
    payload = b"" if no_body else encode(case)
    if case.encoding != "identity" and not no_body:
        out += b"Content-Encoding: " + (b"deflate" if case.encoding == "raw-deflate" else case.encoding.encode()) + b"\r\n"
    if no_body:
        return out + b"\r\n"
    if case.framing == "length":
        return out + b"Content-Length: %d\r\n\r\n" % len(payload) + payload
    if case.framing == "close":
        return out + b"\r\n" + payload
    out += b"Transfer-Encoding: chunked\r\n\r\n"
    pos = 0
    sizes = case.chunk_sizes or [len(payload)]
    least = len(payload) // 500
    i = 0
    while pos < len(payload):
        size = max(1, least, sizes[i % len(sizes)])
        piece = payload[pos : pos + size]
        ext = b";ext%d=v%d;flag" % (i, i) if case.extensions and i % 2 == 0 else b""
        out += b"%x%s\r\n%s\r\n" % (len(piece), ext, piece)
        pos += size
        i += 1
    out += b"0\r\n"
    if case.trailers:
        out += b"X-Checksum: abc\r\nX-Other: 1\r\n"
    return out + b"\r\n"


def pieces_of(data: bytes, sizes: list[int]) -> list[bytes]:
    """`data` in writes of the given sizes, in turn (at most ~300 writes, to keep examples quick)."""
    out, pos, i = [], 0, 0
    least = len(data) // 300
    while pos < len(data):
        size = max(1, least, sizes[i % len(sizes)]) if sizes else len(data)
        out.append(data[pos : pos + size])
        pos += size
        i += 1
    return out


def wire_of(case: Case) -> tuple[bytes, bool]:
    """The bytes the server sends and whether it closes the connection after them."""
    data = answer_bytes(case)
    if case.cut is not None:
        return data[: min(int(case.cut * len(data)), len(data) - 1)], True
    return data, case.framing == "close" and case.status not in (204, 304)


# -- the reference: h11 and a one-shot zlib decode ----------------------------------------------


def reference(case: Case, pieces: list[bytes], closes: bool) -> tuple:
    conn = h11.Connection(h11.CLIENT)
    conn.send(h11.Request(method="POST", target="/", headers=[("Host", "upstream"), ("Content-Length", "2")]))
    conn.send(h11.Data(data=b"{}"))
    conn.send(h11.EndOfMessage())
    response: h11.Response | None = None
    body = bytearray()
    done = False
    try:
        for piece in [*pieces, b""] if closes else pieces:
            conn.receive_data(piece)
            while True:
                event = conn.next_event()
                if event is h11.NEED_DATA or event is h11.PAUSED:
                    break
                if isinstance(event, h11.Response):
                    response = event
                elif isinstance(event, h11.Data):
                    body += event.data
                elif isinstance(event, h11.EndOfMessage):
                    done = True
                elif isinstance(event, h11.ConnectionClosed):
                    break
            if done:
                break
    except h11.RemoteProtocolError:
        return ("refused",)
    if response is None or not done:
        return ("refused",)
    headers = [(bytes(name), bytes(value)) for name, value, *_ in response.headers.raw_items()]
    coding = dict((n.lower(), v) for n, v in headers).get(b"content-encoding", b"")
    data = bytes(body)
    if data and coding == b"gzip":
        try:
            data = zlib.decompress(data, 16 + zlib.MAX_WBITS)
        except zlib.error:
            return ("refused",)
    elif data and coding == b"deflate":
        try:
            data = zlib.decompress(data)
        except zlib.error:
            try:
                data = zlib.decompress(data, -zlib.MAX_WBITS)
            except zlib.error:
                return ("refused",)
    if len(data) > case.cap or sum(map(len, pieces)) > 2 * case.cap + h1client.MAX_HEAD_BYTES:
        return ("too large",)
    return ("ok", response.status_code, headers, data)


# -- this client over a real socket ---------------------------------------------------------------


async def through_client(case: Case, pieces: list[bytes], closes: bool) -> tuple:
    async def serve(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            await reader.readuntil(b"\r\n\r\n")
            await reader.readexactly(2)
            for i, piece in enumerate(pieces):
                writer.write(piece)
                await writer.drain()
                if case.pauses and case.pauses[i % len(case.pauses)]:
                    await asyncio.sleep(0.001)
            if not closes:
                await reader.read()  # until the client closes
        except (ConnectionError, asyncio.IncompleteReadError):
            pass
        finally:
            writer.close()

    server = await asyncio.start_server(serve, "127.0.0.1", 0)
    url = f"http://127.0.0.1:{server.sockets[0].getsockname()[1]}/"
    pool = h1client.Pool(max_answer=case.cap)
    try:
        resp = await pool.request("POST", url, {}, b"{}")
        if case.mode == "read":
            body = await resp.read()
        else:
            parts = []
            async for chunk in resp.chunks():
                parts.append(chunk)
                for _ in range(case.read_pauses[len(parts) % len(case.read_pauses)] if case.read_pauses else 0):
                    await asyncio.sleep(0)
            body = b"".join(parts)
        return ("ok", resp.status, list(resp.raw_headers), body)
    except h1client.AnswerTooLarge:
        return ("too large",)
    except h1client.ClientError:
        return ("refused",)
    finally:
        pool.close()
        server.close()


def run_client(case: Case, pieces: list[bytes], closes: bool) -> tuple:
    factory = uvloop.new_event_loop if case.uvloop else None
    with asyncio.Runner(loop_factory=factory) as runner:
        return runner.run(asyncio.wait_for(through_client(case, pieces, closes), 120))


def check(case: Case) -> None:
    data, closes = wire_of(case)
    pieces = pieces_of(data, case.write_sizes)
    expected = reference(case, pieces, closes)
    got = run_client(case, pieces, closes)
    assert got[0] == expected[0], (got[:1], expected[:1], case)
    if expected[0] == "ok":
        assert got[1] == expected[1]
        assert got[2] == expected[2]
        assert got[3] == expected[3]


# -- the generated cases ----------------------------------------------------------------------------

names = st.text(TOKEN, min_size=1, max_size=12).map(str.encode).filter(lambda n: n.lower() not in FRAMING_NAMES)
values = st.tuples(
    st.sampled_from([b"", b" ", b"  ", b"\t"]),
    st.text(VALUE + " ", max_size=40).map(lambda v: v.strip().encode()),
    st.sampled_from([b"", b" ", b"\t "]),
).map(lambda t: t[0] + t[1] + t[2])
bodies = st.one_of(
    st.binary(max_size=3000),
    st.builds(lambda seed, n: (bytes([seed]) + b"pattern of a larger answer ") * n, st.integers(0, 255), st.integers(100, 20_000)),
)


@st.composite
def cases(draw: st.DrawFn) -> Case:
    body = draw(bodies)
    defect = draw(st.sampled_from(["none", "none", "cut", "cap"]))
    case = Case(
        status=draw(st.sampled_from([200, 200, 201, 204, 400, 404, 429, 500, 503])),
        interim=draw(st.booleans()),
        headers=draw(st.lists(st.tuples(names, values), max_size=12)),
        framing=draw(st.sampled_from(["length", "chunked", "close"])),
        encoding=draw(st.sampled_from(["identity", "identity", "gzip", "deflate", "raw-deflate"])),
        body=body,
        chunk_sizes=draw(st.lists(st.integers(1, 70_000), min_size=1, max_size=6)),
        extensions=draw(st.booleans()),
        trailers=draw(st.booleans()),
        write_sizes=draw(st.lists(st.integers(1, 100_000), min_size=1, max_size=6)),
        pauses=draw(st.lists(st.booleans(), max_size=4)),
        mode=draw(st.sampled_from(["read", "chunks"])),
        read_pauses=draw(st.lists(st.integers(0, 3), max_size=4)),
        uvloop=draw(st.booleans()),
    )
    if defect == "cut":
        case.cut = draw(st.floats(0.0, 1.0, exclude_max=True))
    elif defect == "cap":
        case.cap = draw(st.integers(1, max(1, 2 * len(body))))
    return case


@settings(
    max_examples=150,
    deadline=None,
    derandomize=True,
    database=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
@given(cases())
def test_the_client_and_h11_agree_on_generated_answers(case: Case) -> None:
    check(case)


def test_the_client_and_h11_agree_on_hand_picked_answers() -> None:
    """Boundaries the generator may not hit: empty bodies, a 1-byte first deflate read, a cut right
    after the last chunk's size, a body exactly at the cap."""
    check(Case(200, False, [], "length", "identity", b""))
    check(Case(200, False, [], "chunked", "gzip", b""))
    check(Case(200, False, [], "close", "identity", b""))
    check(Case(200, False, [], "length", "deflate", b"x" * 5000, write_sizes=[60, 1, 1, 7]))
    check(Case(200, False, [], "chunked", "raw-deflate", b"y" * 5000, chunk_sizes=[1], write_sizes=[3]))
    case = Case(200, False, [], "chunked", "identity", b"abc")
    data = answer_bytes(case)
    check(Case(200, False, [], "chunked", "identity", b"abc", cut=(len(data) - 2) / len(data)))
    check(Case(200, False, [], "length", "identity", b"z" * 1000, cap=1000))
    check(Case(200, False, [], "length", "identity", b"z" * 1001, cap=1000))
    check(Case(200, False, [], "close", "gzip", b"z" * 1001, cap=1000, mode="chunks"))


@pytest.mark.parametrize("framing,encoding,mode", [("length", "identity", "read"), ("chunked", "gzip", "chunks")])
def test_64_mib_answers_at_the_default_cap(framing: str, encoding: str, mode: str) -> None:
    body = bytes(range(256)) * (h1client.MAX_ANSWER // 256)  # exactly the cap: accepted
    check(
        Case(
            200,
            False,
            [(b"Content-Type", b"application/json")],
            framing,
            encoding,
            body,
            chunk_sizes=[1 << 20, 65_521],
            write_sizes=[1 << 20],
            mode=mode,
            uvloop=True,
        )
    )
    check(Case(200, False, [], framing, encoding, body + b"!", chunk_sizes=[1 << 20], write_sizes=[1 << 20], mode=mode))
