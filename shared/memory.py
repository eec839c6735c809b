"""Giving freed heap back to the OS, for long-running nodes (glibc malloc; a no-op elsewhere).

Measured with `make bench` (bench issue: a node under 150 MB of RSS): after a few seconds of load a
node's RSS stayed 25-40 MB above its idle figure although its live objects were back to idle size.
Two glibc behaviours keep freed memory:

- the mmap threshold is dynamic: once a block of N bytes allocated with mmap is freed, blocks up to
  N (up to 32 MiB) come from the heap afterwards, so the big short-lived buffers of a quota batch
  (its serialized log rows, the protobuf message, gRPC's slices) leave holes in the heap instead
  of going back to the OS when freed. `tune()` pins the threshold (and the trim threshold) at
  128 KiB, glibc's initial values: master after load 170 -> 156 MB.
- free pages inside the heap (not at its top) are only returned by malloc_trim(): a slave right
  after shipping a batch holds ~30 MB more than before it; `HeapTrimmer` calls malloc_trim after a
  batch is shipped or flushed, at most once per interval (a few ms on a 100 MB heap).
"""

from __future__ import annotations

import asyncio
import ctypes
import ctypes.util
import gc
import sys
import time
from typing import Any

M_TRIM_THRESHOLD = -1
M_MMAP_THRESHOLD = -3
THRESHOLD = 128 * 1024


def _libc() -> Any | None:
    if not sys.platform.startswith("linux"):
        return None
    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6")
    except OSError:
        return None
    # musl has neither malloc_trim nor these mallopt parameters
    return libc if hasattr(libc, "malloc_trim") and hasattr(libc, "mallopt") else None


_LIBC = _libc()


def tune() -> None:
    """Pin glibc's mmap and trim thresholds (call once at node start)."""
    if _LIBC is not None:
        _LIBC.mallopt(M_MMAP_THRESHOLD, THRESHOLD)
        _LIBC.mallopt(M_TRIM_THRESHOLD, THRESHOLD)


def trim() -> None:
    """Return every free heap page to the OS now."""
    if _LIBC is not None:
        _LIBC.malloc_trim(0)


class HeapTrimmer:
    """malloc_trim after a big batch of work, at most once per `min_interval` seconds."""

    def __init__(self, min_interval: float = 5.0) -> None:
        self.min_interval = min_interval
        self._last = 0.0

    async def after_batch(self) -> None:
        now = time.monotonic()
        if _LIBC is None or now - self._last < self.min_interval:
            return
        self._last = now
        await asyncio.to_thread(trim)


def freeze_startup_heap() -> None:
    """Move everything alive after start-up out of the cyclic GC's reach (call once started).

    Imports, the snapshot and the tokenizer leave hundreds of thousands of long-lived objects that
    every full collection walked again (up to ~20 ms with the event loop stopped, seen in the
    bench). Frozen, they are never scanned; objects made later are collected as usual."""
    gc.collect()
    gc.freeze()
    trim()  # what start-up read and dropped (a large install's rows, page by page) goes back
