"""Large upstream answers, end to end through a node (issue 12, item 1).

Non-stream answers over the client's read-pause mark (256 KiB) used to hang forever, holding the
request, its upstream socket and its quota reservation. Now they complete and are billed, an answer
over RELAY_MAX_ANSWER_BYTES is a clear 502, and a compression bomb stops at that cap.

Each relay call runs under a generous asyncio.wait_for: on the old code it never returned, and a
hang must fail the test rather than stall the suite (a guard, not a timed assertion).
"""

from __future__ import annotations

import asyncio
import gzip
import math
from typing import Any

import httpx
import orjson
import pytest

from tests.support.relay_kit import World, bearer, error_of, relay_world

GUARD = 60.0  # seconds before a hang counts as a failure
EMBEDDINGS = {"model": "text-embedding-3-small", "input": [f"input number {i}" for i in range(64)], "dimensions": 2400}


async def post(w: World, path: str, token: dict[str, Any], body: dict[str, Any]) -> httpx.Response:
    return await asyncio.wait_for(w.root.post(path, headers=bearer(token), json=body), GUARD)


async def billed(w: World, token: dict[str, Any]) -> list[tuple[str, int]]:
    """(model, quota) of every consume log, once the relay has flushed them."""
    await w.flush()
    return [(row["model_name"], row["quota"]) for row in await w.consume_logs()]


@pytest.mark.parametrize("client", ["native", "aiohttp"])
async def test_a_large_embeddings_answer_completes_and_is_billed(sqlite_database, fake_upstream, client: str) -> None:
    async with relay_world(sqlite_database, fake_upstream, {"RELAY_HTTP_CLIENT": client}) as w:
        await w.channel()
        token = await w.token(unlimited_quota=False, remain_quota=1_000_000)
        resp = await post(w, "/v1/embeddings", token, EMBEDDINGS)
        assert resp.status_code == 200, resp.text[:300]
        assert len(resp.content) > 1_300_000  # ~1.4 MB: 64 vectors of 2400 numbers
        data = resp.json()["data"]
        assert len(data) == 64 and all(len(item["embedding"]) == 2400 for item in data)
        quota = math.ceil(64 * 5 * w.engine.ratios.model_ratio("text-embedding-3-small"))
        assert await w.wait_for(lambda: billed(w, token)) == [("text-embedding-3-small", quota)]
        row = await w.token_row(token["id"])
        assert (row["used_quota"], row["remain_quota"]) == (quota, 1_000_000 - quota)


async def test_a_large_b64_json_image_completes_and_is_billed(sqlite_database, fake_upstream) -> None:
    fake_upstream.configure(image_bytes=3_000_000)
    async with relay_world(sqlite_database, fake_upstream) as w:
        await w.channel()
        token = await w.token(unlimited_quota=False, remain_quota=1_000_000)
        body = {"model": "dall-e-3", "prompt": "a lighthouse", "size": "1024x1024", "response_format": "b64_json"}
        resp = await post(w, "/v1/images/generations", token, body)
        assert resp.status_code == 200, resp.text[:300]
        assert len(resp.json()["data"][0]["b64_json"]) == 4_000_000  # 3 MB of image in base64
        assert await w.wait_for(lambda: billed(w, token)) == [("dall-e-3", 20000)]


async def test_an_answer_over_the_cap_is_a_502_and_costs_nothing(sqlite_database, fake_upstream) -> None:
    async with relay_world(sqlite_database, fake_upstream, {"RELAY_MAX_ANSWER_BYTES": "1000000"}) as w:
        await w.channel()
        token = await w.token(unlimited_quota=False, remain_quota=1_000_000)
        resp = await post(w, "/v1/embeddings", token, EMBEDDINGS)  # ~1.4 MB > 1 MB
        assert resp.status_code == 502
        error = error_of(resp)
        assert error["code"] == "upstream_answer_too_large" and "1000000-byte cap" in error["message"]
        assert fake_upstream.last.path == "/v1/embeddings"
        # Smaller answers on the same node are unaffected.
        resp = await post(w, "/v1/embeddings", token, {**EMBEDDINGS, "dimensions": 8})
        assert resp.status_code == 200
        quota = math.ceil(64 * 5 * w.engine.ratios.model_ratio("text-embedding-3-small"))
        assert await w.wait_for(lambda: billed(w, token)) == [("text-embedding-3-small", quota)]
        row = await w.token_row(token["id"])
        assert row["remain_quota"] == 1_000_000 - quota  # the refused answer's reservation came back


class RawUpstream:
    """An upstream that answers every request with the same raw bytes; counts the requests."""

    def __init__(self, reply: bytes) -> None:
        self.reply = reply
        self.requests = 0
        self.server: asyncio.base_events.Server | None = None

    async def handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            while True:
                head = await reader.readuntil(b"\r\n\r\n")
                length = next((int(line.split(b":")[1]) for line in head.split(b"\r\n") if line.lower().startswith(b"content-length:")), 0)
                await reader.readexactly(length)
                self.requests += 1
                writer.write(self.reply)
                await writer.drain()
        except (asyncio.IncompleteReadError, ConnectionError):
            pass
        finally:
            writer.close()

    async def __aenter__(self) -> RawUpstream:
        self.server = await asyncio.start_server(self.handle, "127.0.0.1", 0)
        return self

    async def __aexit__(self, *exc: object) -> None:
        assert self.server is not None
        self.server.close()

    @property
    def url(self) -> str:
        assert self.server is not None
        return f"http://127.0.0.1:{self.server.sockets[0].getsockname()[1]}"


def gzip_bomb() -> bytes:
    """An embeddings answer of 100 MiB of JSON padding in ~100 KB, declared `Content-Encoding: gzip`."""
    inflated = b'{"object":"list","data":[],"model":"' + b"A" * (100 * 1024 * 1024) + b'"}'
    body = gzip.compress(inflated, compresslevel=9)
    head = b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Encoding: gzip\r\nContent-Length: %d\r\n\r\n"
    return head % len(body) + body


@pytest.mark.parametrize("client", ["native", "aiohttp"])
async def test_a_gzip_bomb_stops_at_the_cap(sqlite_database, fake_upstream, client: str) -> None:
    """With the default cap (64 MiB) the 100 MiB bomb is refused with a 502, on both clients."""
    async with RawUpstream(gzip_bomb()) as bomb, relay_world(sqlite_database, fake_upstream, {"RELAY_HTTP_CLIENT": client}) as w:
        await w.channel(base_url=bomb.url)
        token = await w.token(unlimited_quota=False, remain_quota=1_000_000)
        resp = await post(w, "/v1/embeddings", token, {"model": "text-embedding-3-small", "input": "x"})
        assert resp.status_code == 502, resp.text[:300]
        assert error_of(resp)["code"] == "upstream_answer_too_large"
        assert bomb.requests == 1
        row = await w.token_row(token["id"])
        assert row["remain_quota"] == 1_000_000 and await billed(w, token) == []


@pytest.mark.parametrize(
    "extra",
    [
        b"".join(b"X-Filler-%d: v\r\n" % i for i in range(5000)),  # 5000 headers
        b"X-Huge: " + b"h" * (1024 * 1024) + b"\r\n",  # one header of 1 MiB
    ],
    ids=["many", "huge"],
)
async def test_oversized_upstream_headers_are_refused(sqlite_database, fake_upstream, extra: bytes) -> None:
    """An upstream's headers are capped in count and size: the client gets an error, not them."""
    body = orjson.dumps({"object": "list", "data": [], "model": "m", "usage": {"prompt_tokens": 5, "total_tokens": 5}})
    reply = b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n" + extra + b"Content-Length: %d\r\n\r\n" % len(body) + body
    async with RawUpstream(reply) as upstream, relay_world(sqlite_database, fake_upstream) as w:
        await w.channel(base_url=upstream.url)
        token = await w.token(unlimited_quota=False, remain_quota=1_000_000)
        resp = await post(w, "/v1/embeddings", token, {"model": "text-embedding-3-small", "input": "x"})
        assert resp.status_code == 500 and error_of(resp)["code"] == "do_request_failed"
        assert "headers" in error_of(resp)["message"] and "x-filler-1" not in resp.headers and "x-huge" not in resp.headers
        assert (await w.token_row(token["id"]))["remain_quota"] == 1_000_000
