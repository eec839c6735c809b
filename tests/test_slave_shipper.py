"""The slave's quota shipper: a batch is sealed early once it holds MAX_BATCH_LOGS log rows (so its
message stays under gRPC's 4 MB cap), and an acknowledged batch keeps only its sums."""

from __future__ import annotations

import asyncio
from pathlib import Path
from types import SimpleNamespace
from typing import Any

from shared.settings import build_settings
from slave import shipper as shipper_module
from slave.shipper import MAX_BATCH_LOGS, Shipper


class FakeLink:
    def __init__(self) -> None:
        self.batches: list[Any] = []

    async def report_batch(self, msg: Any, timeout: float) -> Any:
        self.batches.append(msg)
        return SimpleNamespace(duplicate=False)


async def test_a_full_batch_is_sealed_and_shipped_before_the_interval(tmp_path: Path) -> None:
    settings = build_settings({"SPOOL_DIR": str(tmp_path), "NODE_ID": "s1", "BATCH_UPDATE_INTERVAL": "3600"})
    quota = FakeLink()
    shipper = Shipper(settings, quota)  # type: ignore[arg-type]
    shipper.start()
    try:
        row = {"user_id": 1, "content": "x", "quota": 1}
        for _ in range(MAX_BATCH_LOGS + 5):
            shipper.spend(7, 1, True, 1)
            shipper.usage(1, 3, 1, dict(row))
        async with asyncio.timeout(10):
            while not quota.batches:
                await asyncio.sleep(0.02)
        sent = quota.batches[0]
        assert MAX_BATCH_LOGS <= len(sent.logs) <= MAX_BATCH_LOGS + 5
        seq = int(sent.id.rsplit(":", 1)[1])
        # Acknowledged: the rows are the master's; the sums stay until a snapshot includes them.
        assert shipper.sealed[seq].logs == []
        assert shipper.sealed[seq].token_spent == {7: len(sent.logs)}
        assert shipper.pending_since(0)[0][7] == MAX_BATCH_LOGS + 5
    finally:
        for task in shipper._tasks:
            task.cancel()
        await asyncio.gather(*shipper._tasks, return_exceptions=True)
        shipper.spool.close()


def test_the_cap_keeps_a_batch_far_under_grpc_message_limit() -> None:
    assert shipper_module.MAX_BATCH_LOGS * 1000 < 4 * 1024 * 1024  # even at ~1 KB a row
