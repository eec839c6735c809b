"""The aiohttp upstream client: RELAY_HTTP_CLIENT=aiohttp, and every proxied request (CONNECT).

Its own module so that a node that never uses it never imports aiohttp (~8 MB of RSS)."""

from __future__ import annotations

import asyncio
from typing import AsyncIterator

import aiohttp

from shared.relay.types import UpstreamRequest
from shared.relay.upstream import ProxyChoice, UpstreamResponse, UpstreamUnavailable


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


class AiohttpUpstream:
    """Pooled aiohttp client; RELAY_TIMEOUT (0 = none) and RELAY_PROXY as One API reads them."""

    def __init__(self, timeout: int = 0, proxy: str = "") -> None:
        self._timeout = aiohttp.ClientTimeout(total=timeout or None, connect=min(timeout, 30) if timeout else 30)
        self.proxy_for = ProxyChoice(proxy)
        self._session: aiohttp.ClientSession | None = None

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
