"""The slave's quota sink: deltas go to the spool at once, batches are sealed every
BATCH_UPDATE_INTERVAL seconds (or sooner, once they hold MAX_BATCH_LOGS log rows) and shipped to the
master in order, one at a time, until acknowledged.

The row cap keeps a batch's message small (~1 MB) and bounds the memory a busy slave holds for its
batches. Before it, ~3,000 req/s with a 5 s interval made batches past gRPC's default 4 MB message
cap, refused with RESOURCE_EXHAUSTED on every try with every later batch behind them; the cluster
channels now also allow far bigger messages (shared.cluster.MAX_MESSAGE_BYTES).

Balances: a batch stays counted as pending (subtracted from snapshot balances at each reseed) until
a snapshot says the master's balances include it (`applied[node id] >= seq`), so a delta is never
counted twice nor forgotten between the master's commit and the next snapshot.
"""

from __future__ import annotations

import asyncio
import os
import re
import time
from pathlib import Path
from typing import Any

import grpc

from shared.cluster.convert import batch_message
from shared.logs import get_logger
from shared.memory import HeapTrimmer
from shared.relay.sink import DeltaBatch
from shared.settings import Settings
from slave.link import MasterLink
from slave.spool import Spool, apply_entry

log = get_logger(__name__)

SEND_TIMEOUT = 10.0
MAX_BATCH_LOGS = 2000  # ~1 MB as a message (a log row is ~400 bytes of JSON)


class Shipper:
    def __init__(self, settings: Settings, link: MasterLink) -> None:
        self.settings, self.link = settings, link
        safe_id = re.sub(r"[^A-Za-z0-9_.-]", "_", settings.node_id)
        self.spool = Spool(Path(settings.spool_dir) / safe_id)
        self.open = DeltaBatch()
        self.sealed: dict[int, DeltaBatch] = {}  # seq -> batch, not yet inside a snapshot
        self.unacked: list[int] = []  # in order
        self.wake = asyncio.Event()
        self.full = asyncio.Event()  # the open batch reached MAX_BATCH_LOGS: seal it now
        self._tasks: list[asyncio.Task[None]] = []
        self.shipped = 0
        self.trimmer = HeapTrimmer()

    def start(self) -> None:
        self.sealed = self.spool.recover()
        self.unacked = sorted(self.sealed)
        if self.unacked:
            log.info("resending spooled batches", count=len(self.unacked))
            self.wake.set()
        self._tasks = [
            asyncio.create_task(self._seal_loop(), name="quota-seal"),
            asyncio.create_task(self._send_loop(), name="quota-send"),
        ]

    # -- QuotaSink --------------------------------------------------------------------------------

    def _record(self, entry: list[Any]) -> None:
        self.spool.append(entry)
        apply_entry(self.open, entry)
        if len(self.open.logs) >= MAX_BATCH_LOGS:
            self.full.set()

    def spend(self, token_id: int, user_id: int, token_limited: bool, amount: int) -> None:
        if amount:
            self._record(["s", token_id, user_id, token_limited, amount])

    def usage(self, user_id: int, channel_id: int, quota: int, log_row: dict[str, Any] | None) -> None:
        self._record(["u", user_id, channel_id, quota, log_row])

    def mark_token(self, token_id: int, status: int) -> None:
        self._record(["t", token_id, status])

    def disable_channel(self, channel_id: int, status: int, reason: str) -> None:
        self._record(["c", channel_id, status, reason])
        self.wake.set()

    # -- balances ---------------------------------------------------------------------------------

    def pending_since(self, applied: int) -> tuple[dict[int, int], dict[int, int], dict[int, int]]:
        """Forget batches the snapshot includes; (token spent, user spent, user used) sums of what
        it does not include."""
        for seq in [s for s in self.sealed if s <= applied]:
            del self.sealed[seq]
        if self.spool.open_seq <= applied and self.open.empty():
            self.spool.renumber_open(applied + 1)  # the spool was lost: never reuse an applied id
        sums: tuple[dict[int, int], dict[int, int], dict[int, int]] = ({}, {}, {})
        for batch in (*self.sealed.values(), self.open):
            for total, part in zip(sums, (batch.token_spent, batch.user_spent, batch.user_used), strict=True):
                for k, v in part.items():
                    total[k] = total.get(k, 0) + v
        return sums

    # -- sealing and sending ----------------------------------------------------------------------

    async def seal(self) -> None:
        if self.open.empty():
            return
        await asyncio.to_thread(os.fsync, self.spool.fd)
        seq = self.spool.seal()  # no await between the rename and the swap: one owner per delta
        self.sealed[seq], self.open = self.open, DeltaBatch()
        self.unacked.append(seq)
        self.wake.set()

    async def _seal_loop(self) -> None:
        while True:
            try:
                await asyncio.wait_for(self.full.wait(), max(self.settings.batch_update_interval, 0.1))
            except TimeoutError:
                pass
            self.full.clear()
            try:
                await self.seal()
            except OSError:
                log.exception("sealing a quota batch failed; retrying")

    async def send_one(self) -> bool:
        """Ship the oldest unacknowledged batch; True once the master acknowledged it."""
        seq = self.unacked[0]
        batch_id = f"{self.settings.node_id}:{seq}"
        try:
            ack = await self.link.report_batch(batch_message(batch_id, self.sealed.get(seq) or DeltaBatch()), timeout=SEND_TIMEOUT)
        except grpc.aio.AioRpcError as exc:
            log.warning("quota batch not acknowledged; kept in the spool", batch=batch_id, code=exc.code().name)
            return False
        self.spool.drop(seq)
        self.unacked.pop(0)
        self.shipped += 1
        acked = self.sealed.get(seq)
        if acked is not None:
            # Until a snapshot includes it only its sums count (pending_since); the log rows, the
            # bulk of a busy batch (~1 KB a request), are the master's now.
            acked.logs = []
        await self.trimmer.after_batch()
        if ack.duplicate:
            log.info("quota batch was already applied", batch=batch_id)
        return True

    async def _send_loop(self) -> None:
        backoff = 0.2
        while True:
            if not self.unacked:
                self.wake.clear()
                await self.wake.wait()
                continue
            if await self.send_one():
                backoff = 0.2
            else:
                await asyncio.sleep(backoff)
                backoff = min(backoff * 2, 5.0)

    async def close(self, deadline: float) -> None:
        """SIGTERM: seal what is open and try to ship everything before `deadline` (monotonic)."""
        for task in self._tasks:
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        try:
            await self.seal()
        except OSError:
            log.exception("sealing the last batch failed; its deltas stay in the open spool file")
        while self.unacked and time.monotonic() < deadline:
            if not await self.send_one():
                await asyncio.sleep(0.2)
        if self.unacked:
            log.warning("batches left in the spool for the next start", count=len(self.unacked))
        self.spool.close()
