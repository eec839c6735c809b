"""The master's ingestion ceiling: synthetic slaves ship quota batches through signed gRPC
ReportBatch (slave.link.MasterLink, the slaves' own client) as fast as the master acknowledges them,
each batch as a slave builds it (shared.relay.sink.DeltaBatch: per-token/user/channel sums and one
consume log row per request). Afterwards the database must hold exactly what was acknowledged."""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass

import asyncpg
import grpc

from shared.cluster.convert import batch_message
from shared.cluster.crypto import ClusterKeys
from shared.relay.sink import DeltaBatch
from shared.settings import build_settings
from slave.link import MasterLink
from tests.bench.scale_install import token_owner
from tests.bench.scale_probe import CpuWindow

ROWS_PER_BATCH = 2000  # slave.shipper.MAX_BATCH_LOGS: the biggest batch a slave sends
QUOTA_PER_ROW = 100
ACK_TIMEOUT = 120.0
REQUEST_PREFIX = "bench-ingest-"


def synthetic_batch(slave: int, tokens: int, users: int, channel_id: int) -> DeltaBatch:
    """One full batch of synthetic slave `slave`: ROWS_PER_BATCH requests over its own token window."""
    batch = DeltaBatch()
    now = int(time.time())
    for i in range(ROWS_PER_BATCH):
        number = 1 + (slave * ROWS_PER_BATCH + i) % tokens
        user = token_owner(number, users)
        batch.spend(number, user, True, QUOTA_PER_ROW)
        batch.usage(
            user,
            channel_id,
            QUOTA_PER_ROW,
            {
                "user_id": user,
                "created_at": now,
                "type": 2,
                "content": "模型倍率 1.00，分组倍率 1.00",
                "username": f"bench{user}",
                "token_name": f"bench-{number}",
                "model_name": "bench-json",
                "quota": QUOTA_PER_ROW,
                "prompt_tokens": 10,
                "completion_tokens": 2,
                "channel_id": channel_id,
                "request_id": f"{REQUEST_PREFIX}{slave}-{i}",
                "elapsed_time": 12,
                "is_stream": False,
                "system_prompt_reset": False,
            },
        )
    return batch


@dataclass
class Totals:
    logs: int
    user_used: int
    user_requests: int
    token_used: int
    channel_used: int


async def read_totals(dsn: str) -> Totals:
    conn = await asyncpg.connect(dsn)
    try:
        row = await conn.fetchrow(
            "SELECT (SELECT count(*) FROM logs WHERE request_id LIKE $1) AS logs,"
            " (SELECT coalesce(sum(used_quota), 0) FROM users) AS user_used,"
            " (SELECT coalesce(sum(request_count), 0) FROM users) AS user_requests,"
            " (SELECT coalesce(sum(used_quota), 0) FROM tokens) AS token_used,"
            " (SELECT coalesce(sum(used_quota), 0) FROM channels) AS channel_used",
            REQUEST_PREFIX + "%",
        )
        return Totals(*(int(row[k]) for k in ("logs", "user_used", "user_requests", "token_used", "channel_used")))
    finally:
        await conn.close()


async def _ship(link: MasterLink, node_id: str, batch: DeltaBatch, deadline: float, counts: dict[str, int]) -> None:
    message = batch_message("", batch)
    seq = 0
    while time.monotonic() < deadline:
        seq += 1
        message.id = f"{node_id}:{seq}"
        while True:  # as a slave does: the same batch id again until acknowledged
            try:
                ack = await link.report_batch(message, timeout=ACK_TIMEOUT)
                break
            except grpc.aio.AioRpcError:
                counts["retried"] += 1
        counts["acked"] += 1
        counts["duplicate"] += int(ack.duplicate)  # a resend of a batch applied before


async def ingestion_ceiling(
    master_addr: str,
    secret: str,
    dsn: str,
    slaves: int,
    seconds: float,
    tokens: int,
    users: int,
    channel_id: int,
    cpu_of_master: CpuWindow,
) -> dict[str, object]:
    """Ship for `seconds` from `slaves` synthetic slaves; rows/s, deltas/s, master CPU per row, and
    whether the database holds exactly what was acknowledged."""
    before = await read_totals(dsn)
    links: list[MasterLink] = []
    counts = [{"acked": 0, "duplicate": 0, "retried": 0} for _ in range(slaves)]
    batches = [synthetic_batch(s, tokens, users, channel_id) for s in range(slaves)]
    run = f"{int(time.time())}"
    for s in range(slaves):
        settings = build_settings(
            {"NODE_TYPE": "slave", "MASTER_ADDR": master_addr, "CLUSTER_SECRET": secret, "NODE_ID": f"ingest-{run}-{s}"}
        )
        link = MasterLink(settings, ClusterKeys(secret))
        await link.open()
        links.append(link)
    cpu = cpu_of_master.start()
    started = time.monotonic()
    try:
        await asyncio.gather(*(_ship(links[s], f"ingest-{run}-{s}", batches[s], started + seconds, counts[s]) for s in range(slaves)))
    finally:
        for link in links:
            await link.close()
    elapsed = time.monotonic() - started
    master_cpu = cpu.used()
    after = await read_totals(dsn)
    applied = sum(c["acked"] for c in counts)
    rows = applied * ROWS_PER_BATCH
    deltas_per_batch = sum(
        len(part) for b in batches[:1] for part in (b.token_spent, b.user_spent, b.user_used, b.user_requests, b.channel_used)
    )
    shipped_quota = rows * QUOTA_PER_ROW
    exact = (
        after.logs - before.logs == rows
        and after.user_used - before.user_used == shipped_quota
        and after.user_requests - before.user_requests == rows
        and after.token_used - before.token_used == shipped_quota
        and after.channel_used - before.channel_used == shipped_quota
    )
    return {
        "synthetic_slaves": slaves,
        "seconds": round(elapsed, 1),
        "batches": applied,
        "duplicates": sum(c["duplicate"] for c in counts),
        "retries": sum(c["retried"] for c in counts),
        "rows": rows,
        "rows_per_s": round(rows / elapsed, 1),
        "deltas_per_s": round(applied * deltas_per_batch / elapsed, 1),
        "master_cpu_pct": round(100 * master_cpu / elapsed, 1),
        "master_cpu_us_per_row": round(master_cpu * 1e6 / rows, 1) if rows else None,
        "exactly_once": exact,
        "db_delta": {
            "logs": after.logs - before.logs,
            "user_used": after.user_used - before.user_used,
            "user_requests": after.user_requests - before.user_requests,
            "token_used": after.token_used - before.token_used,
            "channel_used": after.channel_used - before.channel_used,
        },
    }
