"""The upstream exchange of one attempt: the pooled client's single request, or the adaptor's own.

Most providers answer one HTTP request. A few need more than that, and declare an async
`exchange(upstream, meta, request)` on their adaptor: Vertex AI fetches an OAuth token first,
Bedrock's binary event stream is decoded into lines, Replicate creates a prediction and then reads
it, Baidu trades its key for an access token (and retries once with a fresh one), Xunfei speaks
WebSocket. Whatever they do (over the pooled client but for the WebSocket), they return one `UpstreamResponse`, so the
engine (shared/relay/engine.py) and the channel test (master/monitors/channel_test.py) drive every
adaptor alike. An `exchange` may raise RelayError (a refused token exchange, say).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from shared.relay.types import RelayMeta, UpstreamRequest
from shared.relay.upstream import UpstreamClient, UpstreamResponse

Exchange = Callable[[UpstreamClient, RelayMeta, UpstreamRequest], Awaitable[UpstreamResponse]]


async def exchange(upstream: UpstreamClient, adaptor: Any, meta: RelayMeta, request: UpstreamRequest, raw: bytes) -> UpstreamResponse:
    own: Exchange | None = getattr(adaptor, "exchange", None)
    if own is not None:
        return await own(upstream, meta, request)
    return await upstream.send(request, raw)
