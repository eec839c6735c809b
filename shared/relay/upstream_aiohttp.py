"""The aiohttp upstream client: RELAY_HTTP_CLIENT=aiohttp, and every proxied request (CONNECT).

Its own module so that a node that never uses it never imports aiohttp (~8 MB of RSS)."""

from __future__ import annotations

from collections.abc import AsyncIterator

import aiohttp

from shared.relay.types import UpstreamRequest
from shared.relay.upstream import (
    Limits,
    ProxyChoice,
    UpstreamResponse,
    UpstreamTooLarge,
    UpstreamUnavailable,
)


class AiohttpResponse(UpstreamResponse):
    def __init__(self, resp: aiohttp.ClientResponse, max_answer: int) -> None:
        self.status = resp.status
        self.headers = resp.headers
        self._resp = resp
        self._max = max_answer

    async def read(self) -> bytes:
        parts = [chunk async for chunk in self.chunks()]
        self._resp.release()
        return b"".join(parts)

    async def chunks(self) -> AsyncIterator[bytes]:
        """The decoded body as it arrives, refused past the answer cap (as h1client does)."""
        received = 0
        try:
            async for chunk in self._resp.content.iter_any():
                received += len(chunk)
                if received > self._max:
                    self._resp.close()
                    raise UpstreamTooLarge(f"upstream answer exceeds the {self._max}-byte cap")
                yield chunk
        except (TimeoutError, aiohttp.ClientError) as exc:
            self._resp.close()
            raise UpstreamUnavailable(str(exc) or type(exc).__name__) from exc

    def close(self) -> None:
        self._resp.release()


class AiohttpUpstream:
    """Pooled aiohttp client; RELAY_TIMEOUT (0 = none) and RELAY_PROXY as One API reads them, and
    the answer caps of Limits (the idle timeout as aiohttp's time between reads)."""

    def __init__(self, timeout: int = 0, proxy: str = "", limits: Limits | None = None) -> None:
        limits = limits or Limits(timeout=timeout)
        timeout = limits.timeout
        self._timeout = aiohttp.ClientTimeout(
            total=timeout or None, connect=min(timeout, 30) if timeout else 30, sock_read=limits.idle_timeout
        )
        self._limits = limits
        self.proxy_for = ProxyChoice(proxy)
        self._session: aiohttp.ClientSession | None = None

    def _get_session(self) -> aiohttp.ClientSession:
        if self._session is None or self._session.closed:
            connector = aiohttp.TCPConnector(
                limit=0, limit_per_host=self._limits.max_conns_per_host, ttl_dns_cache=300, keepalive_timeout=60
            )
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
        except (TimeoutError, aiohttp.ClientError, ValueError) as exc:
            raise UpstreamUnavailable(str(exc) or type(exc).__name__) from exc
        return AiohttpResponse(resp, self._limits.max_answer)

    async def close(self) -> None:
        if self._session is not None:
            await self._session.close()
