"""The hot path's upstream HTTP client, behind one small interface.

Measured on the bench machine (uvicorn, one core, c=50, a relay that only forwards): httpx's default
transport collapses under concurrency (~450 req/s), aiohttp holds ~6,700 and the pooled HTTP/1.1
client of h1client.py ~21,500. RELAY_HTTP_CLIENT picks one: `native` (the default) or `aiohttp`.
Requests that must go through a proxy (RELAY_PROXY, or the environment's proxies) always use aiohttp,
which speaks CONNECT. httpx stays in use off the hot path (channel tests, balances, user content).
"""

from __future__ import annotations

import asyncio
import urllib.request
from abc import ABC, abstractmethod
from typing import AsyncIterator, Mapping, Protocol
from urllib.parse import urlsplit

import aiohttp

from shared.relay import h1client
from shared.relay.types import UpstreamRequest


class UpstreamUnavailable(Exception):
    """The upstream could not be reached or did not answer in time."""


class UpstreamResponse(ABC):
    """An upstream answer whose headers have arrived; its body is read by one of the methods."""

    status: int
    headers: Mapping[str, str]

    @property
    def content_type(self) -> str:
        return self.headers.get("Content-Type", "")

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


class AiohttpResponse(UpstreamResponse):
    def __init__(self, resp: aiohttp.ClientResponse) -> None:
        self.status = resp.status
        self.headers = resp.headers
        self._resp = resp

    async def read(self) -> bytes:
        try:
            return await self._resp.read()
        except (aiohttp.ClientError, asyncio.TimeoutError) as exc:
            raise UpstreamUnavailable(str(exc) or type(exc).__name__) from exc

    async def chunks(self) -> AsyncIterator[bytes]:
        try:
            async for chunk in self._resp.content.iter_any():
                yield chunk
        except (aiohttp.ClientError, asyncio.TimeoutError) as exc:
            raise UpstreamUnavailable(str(exc) or type(exc).__name__) from exc

    def close(self) -> None:
        self._resp.release()


class NativeResponse(UpstreamResponse):
    def __init__(self, resp: h1client.Response) -> None:
        self.status = resp.status
        self.headers = resp.headers
        self._resp = resp

    async def read(self) -> bytes:
        try:
            return await self._resp.read()
        except h1client.ClientError as exc:
            raise UpstreamUnavailable(str(exc)) from exc

    async def chunks(self) -> AsyncIterator[bytes]:
        try:
            async for chunk in self._resp.chunks():
                yield chunk
        except h1client.ClientError as exc:
            raise UpstreamUnavailable(str(exc)) from exc

    def close(self) -> None:
        self._resp.close()


class UpstreamClient(Protocol):
    async def send(self, request: UpstreamRequest, body: bytes) -> UpstreamResponse: ...

    async def close(self) -> None: ...


class AiohttpUpstream:
    """Pooled aiohttp client; RELAY_TIMEOUT (0 = none) and RELAY_PROXY as One API reads them."""

    def __init__(self, timeout: int = 0, proxy: str = "") -> None:
        self._timeout = aiohttp.ClientTimeout(total=timeout or None, connect=min(timeout, 30) if timeout else 30)
        self._proxy = proxy or None
        # aiohttp's trust_env re-reads the environment and ~/.netrc in a thread on every request;
        # the environment's proxies are read once here instead, and the choice cached per host.
        self._env_proxies = {} if proxy else urllib.request.getproxies_environment()
        self._proxy_for: dict[tuple[str, str], str | None] = {}
        self._session: aiohttp.ClientSession | None = None

    def proxy_for(self, url: str) -> str | None:
        if self._proxy or not self._env_proxies:
            return self._proxy
        parts = urlsplit(url)
        key = (parts.scheme, parts.hostname or "")
        if key not in self._proxy_for:
            bypass = urllib.request.proxy_bypass_environment(key[1], self._env_proxies)
            self._proxy_for[key] = None if bypass else self._env_proxies.get(parts.scheme)
        return self._proxy_for[key]

    def _get_session(self) -> aiohttp.ClientSession:
        if self._session is None or self._session.closed:
            connector = aiohttp.TCPConnector(limit=0, limit_per_host=0, ttl_dns_cache=300, keepalive_timeout=60)
            self._session = aiohttp.ClientSession(
                connector=connector,
                timeout=self._timeout,
                trust_env=False,
                auto_decompress=True,
            )
        return self._session

    async def send(self, request: UpstreamRequest, body: bytes) -> UpstreamResponse:
        session = self._get_session()
        try:
            resp = await session.request(
                request.method,
                request.url,
                data=body if body else None,
                headers=request.headers,
                proxy=self.proxy_for(request.url),
                allow_redirects=False,
            )
        except (aiohttp.ClientError, asyncio.TimeoutError, ValueError) as exc:
            raise UpstreamUnavailable(str(exc) or type(exc).__name__) from exc
        return AiohttpResponse(resp)

    async def close(self) -> None:
        if self._session is not None:
            await self._session.close()


class NativeUpstream:
    """The pooled HTTP/1.1 client for direct connections; proxied requests go through aiohttp."""

    def __init__(self, timeout: int = 0, proxy: str = "") -> None:
        self._pool = h1client.Pool(connect_timeout=min(timeout, 30) if timeout else 30, timeout=timeout)
        self._proxied = AiohttpUpstream(timeout, proxy)

    async def send(self, request: UpstreamRequest, body: bytes) -> UpstreamResponse:
        if self._proxied.proxy_for(request.url) is not None:
            return await self._proxied.send(request, body)
        try:
            resp = await self._pool.request(request.method, request.url, request.headers, body if body else None)
        except h1client.ClientError as exc:
            raise UpstreamUnavailable(str(exc)) from exc
        return NativeResponse(resp)

    async def close(self) -> None:
        self._pool.close()
        await self._proxied.close()


def make_upstream(kind: str, timeout: int = 0, proxy: str = "") -> UpstreamClient:
    """The relay's client by RELAY_HTTP_CLIENT: `native` (default) or `aiohttp`."""
    if kind == "aiohttp":
        return AiohttpUpstream(timeout, proxy)
    return NativeUpstream(timeout, proxy)
