"""The hot path's upstream HTTP client, behind one small interface.

Measured on this machine, httpx's default transport collapses under concurrency (~450 req/s at
c=50) where aiohttp holds ~5,400, so the relay sends through aiohttp: one session and one pooled
connector per node, created once. httpx stays in use off the hot path (channel tests, balances,
user content).
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from typing import AsyncIterator, Mapping, Protocol

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
        self._session: aiohttp.ClientSession | None = None

    def _get_session(self) -> aiohttp.ClientSession:
        if self._session is None or self._session.closed:
            connector = aiohttp.TCPConnector(limit=0, limit_per_host=0, ttl_dns_cache=300, keepalive_timeout=60)
            self._session = aiohttp.ClientSession(
                connector=connector,
                timeout=self._timeout,
                trust_env=self._proxy is None,  # HTTP(S)_PROXY/NO_PROXY when RELAY_PROXY is empty
                auto_decompress=True,
                skip_auto_headers=("User-Agent",),
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
                proxy=self._proxy,
                allow_redirects=False,
            )
        except (aiohttp.ClientError, asyncio.TimeoutError, ValueError) as exc:
            raise UpstreamUnavailable(str(exc) or type(exc).__name__) from exc
        return UpstreamResponse(status=resp.status, headers=resp.headers, _resp=resp)

    async def close(self) -> None:
        if self._session is not None:
            await self._session.close()
