"""The slave's durable spool of quota deltas, one file per batch under SPOOL_DIR/<node id>/.

Every delta is appended to the open batch's file the moment the engine settles it, so a SIGKILL
loses nothing that was settled; the file is renamed from `.open` to `.batch` when the batch is
sealed (rename is atomic, so a delta belongs to exactly one batch) and deleted once the master
acknowledges it. The open file always exists, so its name also keeps the sequence across restarts.
"""

from __future__ import annotations

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
    if kind == "s":
        batch.spend(entry[1], entry[2], entry[3], entry[4])
    elif kind == "u":
        batch.usage(entry[1], entry[2], entry[3], entry[4])
    elif kind == "t":
        batch.token_status[entry[1]] = entry[2]
    elif kind == "c":
        batch.channel_status[entry[1]] = (entry[2], entry[3])


class Spool:
    def __init__(self, root: Path) -> None:
        self.root = root
        self.fd = -1
        self.open_seq = 0

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
        # A small write() to the page cache: survives a process kill, costs microseconds.
        os.write(self.fd, orjson.dumps(entry) + b"\n")

    def seal(self) -> int:
        """Close the open file as a batch and open the next; returns the sealed sequence.
        (The caller fsyncs `fd` first, off the event loop.)"""
        seq = self.open_seq
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
        if self.fd >= 0:
            os.close(self.fd)
            self.fd = -1
