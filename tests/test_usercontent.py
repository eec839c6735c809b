"""The hardened user-content client: SSRF guard (after DNS, on every redirect), caps, pinning.

Only loopback traffic is ever sent: forbidden destinations are refused before any connection, and
the "allowed" server in these tests is a local one admitted through the injectable address policy.
"""

from __future__ import annotations

import asyncio
import ipaddress
from collections.abc import AsyncIterator
from dataclasses import dataclass, field

import pytest

from shared.settings import build_settings
from shared.usercontent import (
    IPAddress,
    UserContentClient,
    UserContentError,
    is_public_address,
)

PNG_HEADER = b"\x89PNG\r\n\x1a\n" + b"\x00\x00\x00\rIHDR" + (640).to_bytes(4, "big") + (480).to_bytes(4, "big") + b"\x08\x02\x00\x00\x00"


def allow_loopback(ip: IPAddress) -> bool:
    """Test policy: the local test server is allowed, everything else as in production."""
    return ip.is_loopback or is_public_address(ip)


@dataclass
class LocalServer:
    """A tiny HTTP/1.1 server on 127.0.0.1 answering from a route table; records every request."""

    routes: dict[str, tuple[int, dict[str, str], bytes]] = field(default_factory=dict)
    requests: list[tuple[str, str, dict[str, str]]] = field(default_factory=list)
    port: int = 0
    _server: asyncio.AbstractServer | None = None

    def url(self, path: str, host: str = "127.0.0.1") -> str:
        return f"http://{host}:{self.port}{path}"

    async def start(self) -> None:
        self._server = await asyncio.start_server(self._handle, "127.0.0.1", 0)
        self.port = self._server.sockets[0].getsockname()[1]

    async def stop(self) -> None:
        assert self._server is not None
        self._server.close()
        await self._server.wait_closed()

    async def _handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            head = await reader.readuntil(b"\r\n\r\n")
        except (asyncio.IncompleteReadError, ConnectionError):
            writer.close()
            return
        lines = head.decode("latin-1").split("\r\n")
        method, path, _ = lines[0].split(" ", 2)
        headers = {k.strip().lower(): v.strip() for k, _, v in (line.partition(":") for line in lines[1:] if line)}
        self.requests.append((method, path, headers))
        if path == "/hang":  # never answers; returns when the client gives up
            await reader.read()
            writer.close()
            return
        status, extra, body = self.routes.get(path, (404, {"Content-Type": "text/plain"}, b"not found"))
        out = [f"HTTP/1.1 {status} X", f"Content-Length: {len(body)}", "Connection: close"]
        out += [f"{k}: {v}" for k, v in extra.items()]
        writer.write(("\r\n".join(out) + "\r\n\r\n").encode() + (b"" if method == "HEAD" else body))
        await writer.drain()
        writer.close()


@pytest.fixture
async def server() -> AsyncIterator[LocalServer]:
    srv = LocalServer()
    await srv.start()
    srv.routes.update(
        {
            "/img.png": (200, {"Content-Type": "image/png"}, PNG_HEADER),
            "/text": (200, {"Content-Type": "text/plain"}, b"hello"),
            "/big": (200, {"Content-Type": "application/octet-stream"}, b"x" * 100_000),
            "/to-metadata": (302, {"Location": "http://169.254.169.254/latest/meta-data/"}, b""),
            "/to-private": (301, {"Location": "http://10.0.0.1/admin"}, b""),
            "/to-v6-loopback": (307, {"Location": "http://[::1]/"}, b""),
            "/to-file": (302, {"Location": "file:///etc/passwd"}, b""),
            "/to-img": (302, {"Location": "/img.png"}, b""),
            "/loop": (302, {"Location": "/loop"}, b""),
        }
    )
    yield srv
    await srv.stop()


@pytest.mark.parametrize(
    "url",
    [
        "http://127.0.0.1/",
        "http://127.0.0.2:8080/x",
        "http://10.0.0.1/",
        "http://172.16.5.4/",
        "http://192.168.1.1/",
        "http://169.254.169.254/latest/meta-data/",
        "http://[::1]/",
        "http://[fd00:ec2::254]/",
        "http://[fe80::1]/",
        "http://[::ffff:127.0.0.1]/",
        "http://0.0.0.0/",
        "http://100.64.0.1/",
        "http://224.0.0.1/",
        "http://2130706433/",  # 127.0.0.1 in decimal, resolved by getaddrinfo
        "http://localhost/",
        "http://LOCALHOST./img.png",
        "http://metadata.google.internal/computeMetadata/v1/",
        "ftp://example.com/x.png",
        "file:///etc/passwd",
        "http:///nohost",
        "not a url",
    ],
)
async def test_forbidden_destinations_are_refused(url: str) -> None:
    async with UserContentClient(timeout=5) as client:
        with pytest.raises(UserContentError):
            await client.fetch(url)
        with pytest.raises(UserContentError):
            await client.head(url)


async def test_loopback_server_refused_by_default_policy(server: LocalServer) -> None:
    async with UserContentClient(timeout=5) as client:
        with pytest.raises(UserContentError, match="does not resolve to a public address"):
            await client.fetch(server.url("/img.png"))
        with pytest.raises(UserContentError, match="does not resolve to a public address"):
            await client.fetch(server.url("/img.png", host="localhost"))
    assert server.requests == []


async def test_allowed_server_fetch_head_and_peek(server: LocalServer) -> None:
    async with UserContentClient(timeout=5, trust_env=False, is_allowed_ip=allow_loopback) as client:
        content_type, body = await client.fetch(server.url("/img.png"))
        assert (content_type, body) == ("image/png", PNG_HEADER)
        head = await client.head(server.url("/text"))
        assert (head.status_code, head.content_type, head.content_length) == (200, "text/plain", 5)
        _, first = await client.peek(server.url("/big"), 100)
        assert first == b"x" * 100
    assert [r[0] for r in server.requests] == ["GET", "HEAD", "GET"]


@pytest.mark.parametrize(
    ("path", "forbidden"),
    [("/to-metadata", "169.254.169.254"), ("/to-private", "10.0.0.1"), ("/to-v6-loopback", None), ("/to-file", None)],
)
async def test_redirect_to_forbidden_address_is_refused(server: LocalServer, path: str, forbidden: str | None) -> None:
    # The policy admits the test server; the IPv6 case narrows it to 127.0.0.1 so ::1 is refused.
    policy = allow_loopback if forbidden else (lambda ip: ip == ipaddress.ip_address("127.0.0.1"))
    async with UserContentClient(timeout=5, is_allowed_ip=policy) as client:
        with pytest.raises(UserContentError) as info:
            await client.fetch(server.url(path))
        with pytest.raises(UserContentError):
            await client.head(server.url(path))
    if forbidden:
        assert forbidden in str(info.value)
    assert [r[1] for r in server.requests] == [path, path]  # the redirect target was never contacted


async def test_allowed_redirect_is_followed(server: LocalServer) -> None:
    async with UserContentClient(timeout=5, trust_env=False, is_allowed_ip=allow_loopback) as client:
        assert await client.fetch(server.url("/to-img")) == ("image/png", PNG_HEADER)
        head = await client.head(server.url("/to-img"))
        assert head.url.endswith("/img.png") and head.content_type == "image/png"


async def test_redirect_limit(server: LocalServer) -> None:
    async with UserContentClient(timeout=5, trust_env=False, is_allowed_ip=allow_loopback, max_redirects=5) as client:
        with pytest.raises(UserContentError, match="more than 5 redirects"):
            await client.fetch(server.url("/loop"))
    assert len(server.requests) == 6


async def test_size_cap(server: LocalServer) -> None:
    async with UserContentClient(timeout=5, trust_env=False, is_allowed_ip=allow_loopback, max_bytes=50_000) as client:
        with pytest.raises(UserContentError, match="larger than 50000 bytes"):
            await client.fetch(server.url("/big"))
        with pytest.raises(UserContentError, match="larger than 10 bytes"):
            await client.fetch(server.url("/big"), max_bytes=10)
        assert len((await client.fetch(server.url("/text")))[1]) == 5


async def test_timeout_is_always_applied(server: LocalServer) -> None:
    async with UserContentClient(timeout=0.3, trust_env=False, is_allowed_ip=allow_loopback) as client:
        with pytest.raises(UserContentError, match="timed out"):
            await client.fetch(server.url("/hang"))


async def test_connection_is_pinned_to_the_vetted_address(server: LocalServer) -> None:
    calls: list[str] = []

    async def resolver(host: str, port: int) -> list[IPAddress]:
        calls.append(host)
        return [ipaddress.ip_address("127.0.0.1")]

    async with UserContentClient(timeout=5, trust_env=False, is_allowed_ip=allow_loopback, resolver=resolver) as client:
        assert await client.fetch(server.url("/img.png", host="images.example")) == ("image/png", PNG_HEADER)
    assert calls == ["images.example"]
    assert server.requests[0][2]["host"] == f"images.example:{server.port}"


async def test_any_forbidden_answer_refuses_the_host() -> None:
    async def resolver(host: str, port: int) -> list[IPAddress]:
        return [ipaddress.ip_address("93.184.216.34"), ipaddress.ip_address("10.0.0.1")]

    async with UserContentClient(timeout=5, resolver=resolver) as client:
        with pytest.raises(UserContentError, match="does not resolve to a public address") as caught:
            await client.fetch("http://rebind.example/")
    assert "10.0.0.1" not in str(caught.value)  # the refusal names no address (tests/security/test_ssrf_messages.py)


async def test_unresolvable_host_is_an_error() -> None:
    async def resolver(host: str, port: int) -> list[IPAddress]:
        raise OSError("Name or service not known")

    async with UserContentClient(timeout=5, resolver=resolver) as client:
        with pytest.raises(UserContentError, match="does not resolve to a public address"):
            await client.fetch("http://nowhere.example/")


async def test_destination_check_applies_through_a_proxy() -> None:
    # The proxy address is never contacted: both targets are refused before sending.
    async with UserContentClient(timeout=5, proxy="http://127.0.0.1:9") as client:
        for url in ("http://10.0.0.1/", "http://localhost/", "http://169.254.169.254/"):
            with pytest.raises(UserContentError, match="does not resolve to a public address"):
                await client.fetch(url)


@pytest.mark.parametrize(
    ("address", "public"),
    [
        ("8.8.8.8", True),
        ("2606:4700::1111", True),
        ("::ffff:8.8.8.8", True),
        ("64:ff9b::808:808", True),
        ("127.0.0.1", False),
        ("10.1.2.3", False),
        ("172.31.255.255", False),
        ("192.168.0.1", False),
        ("169.254.169.254", False),
        ("100.64.0.1", False),
        ("100.100.100.200", False),
        ("0.0.0.0", False),
        ("224.0.0.1", False),
        ("240.0.0.1", False),
        ("255.255.255.255", False),
        ("192.0.2.1", False),
        ("::1", False),
        ("::", False),
        ("fc00::1", False),
        ("fd00:ec2::254", False),
        ("fe80::1", False),
        ("ff02::1", False),
        ("::ffff:10.0.0.1", False),
        ("64:ff9b::a00:1", False),
        ("2002:7f00:1::", False),
    ],
)
def test_default_address_policy(address: str, public: bool) -> None:
    assert is_public_address(ipaddress.ip_address(address)) is public


async def test_client_from_settings() -> None:
    settings = build_settings({"USER_CONTENT_REQUEST_TIMEOUT": "7", "USER_CONTENT_REQUEST_PROXY": "http://127.0.0.1:9"})
    async with UserContentClient.from_settings(settings) as client:
        with pytest.raises(UserContentError, match="does not resolve to a public address"):
            await client.fetch("http://10.0.0.1/")
