"""CPU cost of the relay engine alone: RelayApp on an in-memory upstream, no sockets, no server.

`python -m tests.bench.engine [--profile]` prints microseconds per non-stream chat request (auth,
validation, prompt counting, channel choice, ledger, conversion, log row), and with --profile the
top functions by own time. It separates the engine's cost from the HTTP server's and client's.
"""

from __future__ import annotations

import argparse
import asyncio
import cProfile
import pstats
import time
from collections.abc import AsyncIterator
from typing import Any

from master.options import default_options
from shared.billing import tokenizer
from shared.relay.app import RelayApp
from shared.relay.engine import RelayEngine
from shared.relay.sink import DeltaBatch
from shared.relay.upstream import UpstreamResponse
from shared.settings import build_settings
from shared.snapshot import build_snapshot

KEY = "k" * 48
ANSWER = (
    b'{"id":"x","object":"chat.completion","created":1,"model":"bench","choices":[{"index":0,"message":'
    b'{"role":"assistant","content":"bench reply"},"finish_reason":"stop"}],'
    b'"usage":{"prompt_tokens":10,"completion_tokens":2,"total_tokens":12}}'
)
REQUEST = b'{"model":"bench","messages":[{"role":"user","content":"Say something."}]}'


class _Answer(UpstreamResponse):
    status = 200
    headers = {"Content-Type": "application/json", "Content-Length": str(len(ANSWER))}

    async def read(self) -> bytes:
        return ANSWER

    async def chunks(self) -> AsyncIterator[bytes]:
        yield ANSWER

    def close(self) -> None:
        """Nothing to release: the answer is canned."""


class _Upstream:
    async def send(self, request: Any, body: bytes) -> _Answer:
        return _Answer()

    async def close(self) -> None:
        pass


class _Sink:
    def __init__(self) -> None:
        self.batch = DeltaBatch()

    def spend(self, *args: Any) -> None:
        self.batch.spend(*args)

    def usage(self, *args: Any) -> None:
        self.batch.usage(*args)

    def mark_token(self, *args: Any) -> None:
        pass

    def disable_channel(self, *args: Any) -> None:
        pass


def build_app() -> RelayApp:
    engine = RelayEngine(build_settings({}), _Upstream(), _Sink())  # type: ignore[arg-type]
    snapshot = build_snapshot(
        1,
        [{"id": 1, "username": "root", "group": "default", "status": 1, "role": 100, "quota": 10**15, "used_quota": 0}],
        [
            {
                "id": 1,
                "user_id": 1,
                "key": KEY,
                "name": "t",
                "status": 1,
                "expired_time": -1,
                "remain_quota": 0,
                "unlimited_quota": True,
                "used_quota": 0,
                "models": None,
                "subnet": "",
            }
        ],
        [
            {
                "id": 1,
                "type": 1,
                "key": "sk",
                "status": 1,
                "name": "c",
                "weight": 0,
                "priority": 0,
                "base_url": "http://127.0.0.1:1",
                "models": "bench",
                "group": "default",
                "model_mapping": "",
                "config": "",
                "other": None,
                "system_prompt": None,
            }
        ],
        default_options(),
    )
    engine.ledger.reseed(snapshot, {}, {})
    engine.install(snapshot)
    tokenizer.warm_up()
    return RelayApp(engine)


async def run(app: RelayApp, n: int) -> None:
    scope = {
        "type": "http",
        "method": "POST",
        "path": "/v1/chat/completions",
        "query_string": b"",
        "headers": [(b"authorization", b"Bearer sk-" + KEY.encode()), (b"content-type", b"application/json")],
        "client": ("127.0.0.1", 1),
    }

    async def receive() -> dict[str, Any]:
        return {"type": "http.request", "body": REQUEST, "more_body": False}

    async def send(message: dict[str, Any]) -> None:
        if message["type"] == "http.response.start" and message["status"] != 200:
            raise RuntimeError(f"the engine answered {message['status']}")

    for _ in range(n):
        await app(dict(scope), receive, send)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--requests", type=int, default=5000)
    parser.add_argument("--profile", action="store_true")
    args = parser.parse_args()
    app = build_app()
    asyncio.run(run(app, 500))  # warm caches
    started = time.perf_counter()
    asyncio.run(run(app, args.requests))
    print(f"{(time.perf_counter() - started) / args.requests * 1e6:.1f} µs of CPU per request in the engine")
    if args.profile:
        profiler = cProfile.Profile()
        profiler.runcall(asyncio.run, run(app, 2000))
        pstats.Stats(profiler).sort_stats("tottime").print_stats(20)


if __name__ == "__main__":
    main()
