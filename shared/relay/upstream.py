"""The hot path's upstream HTTP client, behind one small interface.

Measured on the bench machine (uvicorn, one core, c=50, a relay that only forwards): httpx's default
transport collapses under concurrency (~450 req/s), aiohttp holds ~6,700 and the pooled HTTP/1.1
client of h1client.py ~21,500. RELAY_HTTP_CLIENT picks one: `native` (the default) or `aiohttp`.
Requests that must go through a proxy (RELAY_PROXY, or the environment's proxies) always use aiohttp,
which speaks CONNECT. httpx stays in use off the hot path (channel tests, balances, user content).
"""

from __future__ import annotations

import urllib.request
from abc import ABC, abstractmethod
from collections.abc import AsyncIterator, Iterable, Mapping
from dataclasses import dataclass
from typing import Protocol
from urllib.parse import urlsplit

from shared.relay import h1client
from shared.relay.types import RelayError, UpstreamRequest
from shared.settings import Settings

# Framing is the node's own; CORS headers are the node's own too (One API sets its own).
# Hop-by-hop headers describe the upstream connection, not the answer (RFC 9110 §7.6.1), and an
# upstream's cookies are for the gateway's client of that upstream, never for our client's browser.
_NOT_COPIED = frozenset(
    b"content-length transfer-encoding content-encoding connection keep-alive proxy-connection "
    b"proxy-authenticate proxy-authorization te trailer upgrade set-cookie set-cookie2".split()
)


def copyable_headers(pairs: Iterable[tuple[bytes, bytes]]) -> list[tuple[bytes, bytes]]:
    """The upstream headers a client gets: lower-cased, the first value of each name, without
    hop-by-hop headers (and those the Connection header names) and Set-Cookie."""
    pairs = list(pairs)
    seen: set[bytes] = set()
    for name, value in pairs:
        if name.lower() == b"connection":  # `Connection: x-foo` makes x-foo hop-by-hop too
            seen.update(token.strip().lower() for token in value.split(b","))
    out = []
    for name, value in pairs:
        low = name.lower()
        if low in _NOT_COPIED or low in seen or low.startswith(b"access-control-"):
            continue
        seen.add(low)
        out.append((low, value))
    return out


class UpstreamUnavailable(Exception):
    """The upstream could not be reached or did not answer in time."""


class UpstreamTooLarge(UpstreamUnavailable):
    """The upstream's answer is larger than RELAY_MAX_ANSWER_BYTES (decoded)."""


def unavailable(exc: h1client.ClientError) -> UpstreamUnavailable:
    """The seam's error for a client error: too large, or any other failure."""
    if isinstance(exc, h1client.AnswerTooLarge):
        return UpstreamTooLarge(str(exc))
    return UpstreamUnavailable(str(exc))


def read_error(exc: UpstreamUnavailable) -> RelayError:
    """The client's error for an answer whose body could not be read: 502 when it was too large
    (the gateway refused it), else One API's 500 read_response_body_failed."""
    if isinstance(exc, UpstreamTooLarge):
        return RelayError(502, f"upstream answer too large: {exc}", "upstream_error", code="upstream_answer_too_large")
    return RelayError(500, f"read response body failed: {exc}", code="read_response_body_failed")


@dataclass(frozen=True)
class Limits:
    """What an upstream answer may cost (settings RELAY_TIMEOUT, RELAY_IDLE_TIMEOUT,
    RELAY_MAX_ANSWER_BYTES, RELAY_MAX_CONNS_PER_HOST)."""

    timeout: int = 0  # the whole exchange, seconds; 0 = none
    idle_timeout: float = h1client.IDLE_TIMEOUT  # seconds without a byte while an answer is awaited
    max_answer: int = h1client.MAX_ANSWER  # decoded body bytes
    max_conns_per_host: int = h1client.MAX_CONNS_PER_HOST


class UpstreamResponse(ABC):
    """An upstream answer whose headers have arrived; its body is read by one of the methods."""

    status: int
    headers: Mapping[str, str]

    @property
    def content_type(self) -> str:
        return self.headers.get("Content-Type", "")

    def copied_headers(self) -> list[tuple[bytes, bytes]]:
        return copyable_headers((k.encode("latin-1"), v.encode("latin-1")) for k, v in self.headers.items())

    @abstractmethod
    async def read(self) -> bytes:
        """The whole body; the connection is released."""

    @abstractmethod
    def chunks(self) -> AsyncIterator[bytes]:
        """The body as it arrives."""

    @abstractmethod
    def close(self) -> None:
        """Release the connection (for reuse if the body was read whole)."""

    async def line_batches(self) -> AsyncIterator[list[bytes]]:
        """The complete lines of each network read (newlines stripped), as they arrive.

        Handing a stream on per read rather than per line lets the relay answer the client with
        one write for all the events that arrived together."""
        carry = b""
        async for chunk in self.chunks():
            parts = (carry + chunk).split(b"\n")
            carry = parts.pop()
            if parts:
                yield [p[:-1] if p.endswith(b"\r") else p for p in parts]
        if carry:
            yield [carry[:-1] if carry.endswith(b"\r") else carry]


class BufferedResponse(UpstreamResponse):
    """An answer held whole in memory: one an adaptor read before handing it on (Baidu looks for a
    refused token in it), or composed itself (Replicate, after polling a prediction)."""

    def __init__(self, status: int, body: bytes, content_type: str = "application/json") -> None:
        self.status, self._body = status, body
        self.headers = {"Content-Type": content_type}

    def copied_headers(self) -> list[tuple[bytes, bytes]]:
        return [(b"content-type", self.content_type.encode("latin-1"))]

    async def read(self) -> bytes:
        return self._body

    async def chunks(self) -> AsyncIterator[bytes]:
        if self._body:
            yield self._body

    def close(self) -> None:
        self._body = b""


class NativeResponse(UpstreamResponse):
    def __init__(self, resp: h1client.Response) -> None:
        self.status = resp.status
        self._resp = resp

    @property
    def headers(self) -> Mapping[str, str]:  # type: ignore[override]
        return self._resp.headers

    @property
    def content_type(self) -> str:
        return self._resp.header(b"content-type")

    def copied_headers(self) -> list[tuple[bytes, bytes]]:
        return copyable_headers(self._resp.raw_headers)

    async def read(self) -> bytes:
        try:
            return await self._resp.read()
        except h1client.ClientError as exc:
            raise unavailable(exc) from exc

    async def chunks(self) -> AsyncIterator[bytes]:
        try:
            async for chunk in self._resp.chunks():
                yield chunk
        except h1client.ClientError as exc:
            raise unavailable(exc) from exc

    def close(self) -> None:
        self._resp.close()


class UpstreamClient(Protocol):
    async def send(self, request: UpstreamRequest, body: bytes) -> UpstreamResponse: ...

    async def close(self) -> None: ...


class ProxyChoice:
    """Which proxy a URL goes through: RELAY_PROXY for all, else the environment's (read once, the
    choice cached per scheme and host; aiohttp's trust_env re-read ~/.netrc on every request)."""

    def __init__(self, proxy: str = "") -> None:
        self._proxy = proxy or None
        self._env_proxies = {} if proxy else urllib.request.getproxies_environment()
        self._for: dict[tuple[str, str], str | None] = {}

    def __call__(self, url: str) -> str | None:
        if self._proxy or not self._env_proxies:
            return self._proxy
        parts = urlsplit(url)
        key = (parts.scheme, parts.hostname or "")
        if key not in self._for:
            bypass = urllib.request.proxy_bypass_environment(key[1], self._env_proxies)  # type: ignore[attr-defined]  # in the module, not in typeshed
            self._for[key] = None if bypass else self._env_proxies.get(parts.scheme)
        return self._for[key]


class NativeUpstream:
    """The pooled HTTP/1.1 client for direct connections; proxied requests go through aiohttp."""

    def __init__(self, timeout: int = 0, proxy: str = "", limits: Limits | None = None) -> None:
        limits = limits or Limits(timeout=timeout)
        timeout = limits.timeout
        self._pool = h1client.Pool(
            connect_timeout=min(timeout, 30) if timeout else 30,
            timeout=timeout,
            idle_timeout=limits.idle_timeout,
            max_answer=limits.max_answer,
            max_conns_per_host=limits.max_conns_per_host,
        )
        self._limits, self._proxy = limits, proxy
        self.proxy_for = ProxyChoice(proxy)
        self._proxied: UpstreamClient | None = None  # aiohttp (~8 MB of RSS) only once a proxy is used

    async def send(self, request: UpstreamRequest, body: bytes) -> UpstreamResponse:
        if self.proxy_for(request.url) is not None:
            if self._proxied is None:
                from shared.relay.upstream_aiohttp import AiohttpUpstream

                self._proxied = AiohttpUpstream(proxy=self._proxy, limits=self._limits)
            return await self._proxied.send(request, body)
        try:
            resp = await self._pool.request(request.method, request.url, request.headers, body if body else None)
        except h1client.ClientError as exc:
            raise unavailable(exc) from exc
        return NativeResponse(resp)

    async def close(self) -> None:
        self._pool.close()
        if self._proxied is not None:
            await self._proxied.close()


def make_upstream(kind: str, timeout: int = 0, proxy: str = "", limits: Limits | None = None) -> UpstreamClient:
    """The relay's client by RELAY_HTTP_CLIENT: `native` (default) or `aiohttp`."""
    limits = limits or Limits(timeout=timeout)
    if kind == "aiohttp":
        from shared.relay.upstream_aiohttp import AiohttpUpstream

        return AiohttpUpstream(proxy=proxy, limits=limits)
    return NativeUpstream(proxy=proxy, limits=limits)


def limits_from(settings: Settings) -> Limits:
    """The client limits a node's settings ask for."""
    return Limits(
        timeout=settings.relay_timeout,
        idle_timeout=settings.relay_idle_timeout,
        max_answer=settings.relay_max_answer_bytes,
        max_conns_per_host=settings.relay_max_conns_per_host,
    )
