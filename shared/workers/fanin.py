"""/metrics and /readyz of a node run as N workers, answered by whichever worker the kernel hands
the connection to, for the node as a whole: it asks every worker over its private loopback port
(signed with the launch secret, so each answers for itself) and combines the answers.

- /metrics: every worker's samples, each with a `worker` label, under one HELP/TYPE per family;
  a worker that does not answer in time (restarting) is left out of that scrape.
- /readyz: 200 only when every worker is ready (a worker restarting makes the node not ready
  until it is back, so a load balancer never sends traffic to a half-started node).
"""

from __future__ import annotations

import asyncio

import httpx
import orjson
from starlette.types import Send

from shared.workers.forward import SECRET_HEADER
from shared.workers.slot import WorkerSlot

READY_TIMEOUT = 0.8  # under a probe's usual 1 s
METRICS_TIMEOUT = 3.0
CONTENT_TYPE = b"text/plain; version=0.0.4; charset=utf-8"


async def _ask_all(client: httpx.AsyncClient, slot: WorkerSlot, path: str, timeout: float, token: str = "") -> list[httpx.Response | None]:
    headers = {SECRET_HEADER.decode(): slot.secret}
    if token:  # each worker checks METRICS_TOKEN itself too
        headers["authorization"] = f"Bearer {token}"

    async def one(index: int) -> httpx.Response | None:
        try:
            return await client.get(slot.peer_url(index) + path, headers=headers, timeout=timeout)
        except httpx.HTTPError:
            return None

    return list(await asyncio.gather(*(one(i) for i in range(slot.count))))


def _labelled(line: str, worker: int) -> str:
    """`name{a="b"} 1` -> `name{worker="0",a="b"} 1`; `name 1` -> `name{worker="0"} 1`."""
    brace, space = line.find("{"), line.find(" ")
    if brace != -1 and (space == -1 or brace < space):
        closing = "," if line[brace + 1] != "}" else ""
        return f'{line[: brace + 1]}worker="{worker}"{closing}{line[brace + 1 :]}'
    return f'{line[:space]}{{worker="{worker}"}}{line[space:]}'


def merge_metrics(texts: list[tuple[int, str]]) -> str:
    """Prometheus text from several workers as one exposition (family order of first appearance)."""
    heads: dict[str, dict[str, str]] = {}  # family -> HELP and TYPE lines, the first seen of each
    samples: dict[str, list[str]] = {}
    for worker, text in texts:
        family = ""
        for line in text.splitlines():
            if line.startswith(("# HELP ", "# TYPE ")):
                _, kind, family = line.split(" ", 3)[:3]
                heads.setdefault(family, {}).setdefault(kind, line)
                samples.setdefault(family, [])
            elif line and not line.startswith("#") and family:
                samples[family].append(_labelled(line, worker))
    out = [line for family in heads for line in (*heads[family].values(), *samples[family])]
    return "\n".join(out) + "\n"


async def metrics(send: Send, client: httpx.AsyncClient, slot: WorkerSlot, token: str = "") -> None:
    """The node's metrics; the caller checked the scrape's METRICS_TOKEN."""
    answers = await _ask_all(client, slot, "/metrics", METRICS_TIMEOUT, token)
    texts = [(i, a.text) for i, a in enumerate(answers) if a is not None and a.status_code == 200]
    body = merge_metrics(texts).encode()
    await send(
        {
            "type": "http.response.start",
            "status": 200,
            "headers": [(b"content-type", CONTENT_TYPE), (b"content-length", str(len(body)).encode())],
        }
    )
    await send({"type": "http.response.body", "body": body})


async def ready(send: Send, client: httpx.AsyncClient, slot: WorkerSlot) -> None:
    answers = await _ask_all(client, slot, "/readyz", READY_TIMEOUT)
    workers = {
        str(i): ("ok" if a is not None and a.status_code == 200 else "down" if a is None else "not ready") for i, a in enumerate(answers)
    }
    ok = all(state == "ok" for state in workers.values())
    body = orjson.dumps({"status": "ok" if ok else "not ready", "workers": workers})
    await send(
        {
            "type": "http.response.start",
            "status": 200 if ok else 503,
            "headers": [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())],
        }
    )
    await send({"type": "http.response.body", "body": body})
