"""The hot path's upstream HTTP client, behind one small interface.

Measured on this machine, httpx's default transport collapses under concurrency (~450 req/s at
c=50) where aiohttp holds ~5,400, so the relay sends through aiohttp: one session and one pooled
connector per node, created once. httpx stays in use off the hot path (channel tests, balances,
user content).
"""

from __future__ import annotations

import asyncio
import urllib.request
from dataclasses import dataclass
from typing import AsyncIterator, Mapping, Protocol
from urllib.parse import urlsplit

import aiohttp

from shared.relay.types import UpstreamRequest


class UpstreamUnavailable(Exception):
    """The upstream could not be reached or did not answer in time."""


@dataclass
class UpstreamResponse:
    status: int
    headers: Mapping[str, str]
    _resp: aiohttp.ClientResponse

    @property
    def content_type(self) -> str:
        return self.headers.get("Content-Type", self.headers.get("content-type", ""))

    async def read(self) -> bytes:
        try:
            return await self._resp.read()
        except (aiohttp.ClientError, asyncio.TimeoutError) as exc:
            raise UpstreamUnavailable(str(exc) or type(exc).__name__) from exc

    async def lines(self) -> AsyncIterator[bytes]:
        """Upstream body line by line (newline stripped), as it arrives."""
        content = self._resp.content
        while True:
            try:
                line = await content.readline()
            except (aiohttp.ClientError, asyncio.TimeoutError) as exc:
                raise UpstreamUnavailable(str(exc) or type(exc).__name__) from exc
            if not line:
                return
            yield line.rstrip(b"\r\n")

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

    async def chunks(self) -> AsyncIterator[bytes]:
        try:
            async for chunk in self._resp.content.iter_any():
                yield chunk
        except (aiohttp.ClientError, asyncio.TimeoutError) as exc:
            raise UpstreamUnavailable(str(exc) or type(exc).__name__) from exc

    def close(self) -> None:
        self._resp.release()


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

    def _proxy_of(self, url: str) -> str | None:
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
                proxy=self._proxy_of(request.url),
                allow_redirects=False,
            )
        except (aiohttp.ClientError, asyncio.TimeoutError, ValueError) as exc:
            raise UpstreamUnavailable(str(exc) or type(exc).__name__) from exc
        return UpstreamResponse(status=resp.status, headers=resp.headers, _resp=resp)

    async def close(self) -> None:
        if self._session is not None:
            await self._session.close()
