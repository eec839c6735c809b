"""An upstream's hop-by-hop headers and cookies stay at the gateway (issue 12, item 9).

Answers relayed with the upstream's headers (a non-stream chat, an image, speech) carry neither
the upstream connection's headers (Connection and the names it lists, Keep-Alive, Upgrade,
Proxy-*, TE, Trailer) nor Set-Cookie: an upstream's cookie would land in our client's browser
under the gateway's domain. Ordinary headers (request ids, rate-limit figures) still pass."""

from __future__ import annotations

import httpx
import pytest

from shared.relay.upstream import copyable_headers
from tests.support.relay_kit import CHAT, bearer, relay_world

UPSTREAM_HEADERS = (
    ("Set-Cookie", "__cf_bm=upstream-session; Path=/; HttpOnly"),
    ("Set-Cookie", "second=cookie"),
    ("Set-Cookie2", "legacy=cookie"),
    ("Connection", "x-hop-secret"),
    ("X-Hop-Secret", "connection-scoped"),
    ("Proxy-Authenticate", "Basic realm=upstream"),
    ("Upgrade", "h2c"),
    ("Trailer", "x-checksum"),
    ("TE", "trailers"),
    ("X-Upstream-Note", "kept"),
)
DROPPED = {"set-cookie", "set-cookie2", "x-hop-secret", "proxy-authenticate", "upgrade", "trailer", "te"}

CALLS = {
    "chat": ("/v1/chat/completions", {"model": "gpt-3.5-turbo", "messages": CHAT}),
    "image": ("/v1/images/generations", {"model": "dall-e-3", "prompt": "a cat", "size": "1024x1024"}),
    "speech": ("/v1/audio/speech", {"model": "tts-1", "input": "hello", "voice": "alloy"}),
}


def assert_clean(resp: httpx.Response) -> None:
    assert resp.status_code == 200, resp.text
    names = {name.lower() for name in resp.headers.keys()}
    assert not names & DROPPED, names & DROPPED
    assert resp.headers["x-upstream-note"] == "kept"
    assert resp.cookies == httpx.Cookies()


@pytest.mark.parametrize("client", ["native", "aiohttp"])
@pytest.mark.parametrize("call", sorted(CALLS))
async def test_hop_by_hop_headers_and_cookies_are_dropped(sqlite_database, fake_upstream, call: str, client: str) -> None:
    fake_upstream.configure(extra_headers=UPSTREAM_HEADERS)
    path, body = CALLS[call]
    async with httpx.AsyncClient() as direct:  # the fake does send them
        sent = await direct.post(fake_upstream.url + path, json=body, headers={"Authorization": "Bearer sk-x"})
    assert sent.headers.get_list("set-cookie") and sent.headers["x-hop-secret"] == "connection-scoped"
    async with relay_world(sqlite_database, fake_upstream, {"RELAY_HTTP_CLIENT": client}) as w:
        await w.channel()
        token = await w.token()
        resp = await w.root.post(path, headers=bearer(token), json=body)
        assert_clean(resp)
        # The test client keeps no upstream cookie for the gateway's domain either.
        assert "__cf_bm" not in w.root.cookies


def test_the_filter_itself() -> None:
    pairs = [(n.encode(), v.encode()) for n, v in UPSTREAM_HEADERS] + [(b"Content-Length", b"5"), (b"Access-Control-Allow-Origin", b"*")]
    kept = copyable_headers(pairs)
    assert kept == [(b"x-upstream-note", b"kept")]
