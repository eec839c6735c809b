"""The slave's durable spool of quota deltas, one file per batch under SPOOL_DIR/<node id>/.

Every delta is appended to the open batch's file in the event-loop turn the engine settles it (the
turn's deltas in one write(), before the loop polls for more work), so a SIGKILL loses nothing that
was settled; the client's answer is written before its settlement in any case; the file is renamed from `.open` to `.batch` when the batch is
sealed (rename is atomic, so a delta belongs to exactly one batch) and deleted once the master
acknowledges it. The open file always exists, so its name also keeps the sequence across restarts.
"""

from __future__ import annotations

import asyncio
import os
import re
from pathlib import Path
from typing import Any

import orjson

from shared.logs import get_logger
from shared.relay.sink import DeltaBatch

log = get_logger(__name__)

_NAME = re.compile(r"^(\d{12})\.(open|batch)$")


def _replay(path: Path) -> DeltaBatch:
    batch = DeltaBatch()
    for line in path.read_bytes().splitlines():
        try:
            entry = orjson.loads(line)
        except orjson.JSONDecodeError:
            log.warning("spool line unreadable; skipped", file=path.name)  # a torn last line
            continue
        apply_entry(batch, entry)
    return batch


def apply_entry(batch: DeltaBatch, entry: list[Any]) -> None:
    kind = entry[0]
    # The master refuses a batch holding a negative cost (it would credit quota), so one that a
    # misconfigured ratio made negative is shipped as 0 rather than stall every later batch.
    if kind == "s":
        batch.spend(entry[1], entry[2], entry[3], max(entry[4], 0))
    elif kind == "u":
        quota, row = max(entry[3], 0), entry[4]
        if row is not None and row.get("quota", 0) < 0:
            row = {**row, "quota": quota}
        batch.usage(entry[1], entry[2], quota, row)
    elif kind == "t":
        batch.token_status[entry[1]] = entry[2]
    elif kind == "c":
        batch.channel_status[entry[1]] = (entry[2], entry[3])


class Spool:
    def __init__(self, root: Path) -> None:
        self.root = root
        self.fd = -1
        self.open_seq = 0
        self._lines: list[bytes] = []  # this loop turn's entries, not yet written

    def _path(self, seq: int, kind: str) -> Path:
        return self.root / f"{seq:012d}.{kind}"

    def recover(self) -> dict[int, DeltaBatch]:
        """Sealed batches left by an earlier run (open ones sealed now), oldest first; opens the next file."""
        self.root.mkdir(parents=True, exist_ok=True)
        found: dict[int, DeltaBatch] = {}
        highest = 0
        for path in sorted(self.root.iterdir()):
            match = _NAME.match(path.name)
            if match is None:
                continue
            seq = int(match.group(1))
            highest = max(highest, seq)
            batch = _replay(path)
            if batch.empty():
                path.unlink()
                continue
            if match.group(2) == "open":
                path.rename(self._path(seq, "batch"))
            found[seq] = batch
        self._open(highest + 1)
        return found

    def _open(self, seq: int) -> None:
        self.open_seq = seq
        self.fd = os.open(self._path(seq, "open"), os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)

    def append(self, entry: list[Any]) -> None:
        # One small write() to the page cache per loop turn (survives a process kill): a write per
        # delta was ~6 % of a busy slave's event loop (two deltas per request).
        self._lines.append(orjson.dumps(entry) + b"\n")
        if len(self._lines) == 1:
            try:
                asyncio.get_running_loop().call_soon(self.write_pending)
            except RuntimeError:  # no loop (tools, tests): write now
                self.write_pending()

    def write_pending(self) -> None:
        if not self._lines or self.fd < 0:
            return
        data = memoryview(b"".join(self._lines))
        self._lines = []
        while data:
            data = data[os.write(self.fd, data) :]

    def seal(self) -> int:
        """Close the open file as a batch and open the next; returns the sealed sequence.
        (The caller fsyncs `fd` first, off the event loop.)"""
        seq = self.open_seq
        self.write_pending()
        os.close(self.fd)
        self._path(seq, "open").rename(self._path(seq, "batch"))
        self._open(seq + 1)
        return seq

    def renumber_open(self, seq: int) -> None:
        """Move the (empty) open file up to `seq`, when the master has seen higher ids of this node."""
        os.close(self.fd)
        self._path(self.open_seq, "open").unlink()
        self._open(seq)

    def drop(self, seq: int) -> None:
        self._path(seq, "batch").unlink(missing_ok=True)

    def close(self) -> None:
        self.write_pending()
        if self.fd >= 0:
            os.close(self.fd)
            self.fd = -1
