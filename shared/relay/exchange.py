"""The upstream exchange of one attempt: the pooled client's single request, or the adaptor's own.

Most providers answer one HTTP request. A few need more than that, and declare an async
`exchange(upstream, meta, request)` on their adaptor: Vertex AI fetches an OAuth token first,
Bedrock's binary event stream is decoded into lines, Replicate creates a prediction and then reads
it. Whatever they do, they use the same pooled client and return one `UpstreamResponse`, so the
engine (shared/relay/engine.py) and the channel test (master/monitors/channel_test.py) drive every
adaptor alike. An `exchange` may raise RelayError (a refused token exchange, say).
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

from shared.relay.types import RelayMeta, UpstreamRequest
from shared.relay.upstream import UpstreamClient, UpstreamResponse

Exchange = Callable[[UpstreamClient, RelayMeta, UpstreamRequest], Awaitable[UpstreamResponse]]


async def exchange(upstream: UpstreamClient, adaptor: Any, meta: RelayMeta, request: UpstreamRequest, raw: bytes) -> UpstreamResponse:
    own: Exchange | None = getattr(adaptor, "exchange", None)
    if own is not None:
        return await own(upstream, meta, request)
    return await upstream.send(request, raw)


class BufferedResponse(UpstreamResponse):
    """An answer an adaptor's exchange composed itself (after polling, say), served from memory."""

    def __init__(self, status: int, body: bytes, content_type: str = "application/json") -> None:
        self.status = status
        self.headers = {"Content-Type": content_type}
        self._body = body

    def copied_headers(self) -> list[tuple[bytes, bytes]]:
        return [(b"content-type", self.headers["Content-Type"].encode("latin-1"))]

    async def read(self) -> bytes:
        return self._body

    async def chunks(self) -> AsyncIterator[bytes]:
        if self._body:
            yield self._body

    def close(self) -> None:
        self._body = b""
