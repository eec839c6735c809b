"""Structured logging (structlog) with the request id bound to every line of a request.

Lines go to stderr and, as One API does, to `<log-dir>/oneapi-YYYYMMDD.log` (or `oneapi.log`
with ONLY_ONE_LOG_FILE=true).
"""

from __future__ import annotations

import atexit
import logging
import random
import sys
import threading
import time
from collections import deque
from contextvars import ContextVar
from datetime import datetime
from pathlib import Path
from typing import Any, BinaryIO, cast

import orjson
import structlog

request_id_var: ContextVar[str] = ContextVar("request_id", default="")


class _RequestIds:
    """One API's request id: local YYYYMMDDhhmmss + nanoseconds % 1e9 + 8 random digits.

    The date part is formatted once per second: this runs on every request."""

    def __init__(self) -> None:
        self._second = -1
        self._stamp = ""

    def __call__(self) -> str:
        now = time.time_ns()
        second = now // 1_000_000_000
        if second != self._second:
            self._second = second
            self._stamp = time.strftime("%Y%m%d%H%M%S", time.localtime(second))
        return f"{self._stamp}{now % 1_000_000_000}{_random.getrandbits(27) % 100_000_000:08d}"


_random = random.Random()
new_request_id = _RequestIds()


def _add_request_id(_logger: object, _name: str, event: dict) -> dict:
    rid = request_id_var.get()
    if rid:
        event.setdefault("request_id", rid)
    if _process_fields:
        for key, value in _process_fields.items():
            event.setdefault(key, value)
    return event


# Fields on every line of this process (a worker's index under `--workers`): several processes
# write to the same log file and stderr.
_process_fields: dict[str, object] = {}


def bind_process_fields(**fields: object) -> None:
    _process_fields.update(fields)


class _Timestamp:
    """ISO local time with milliseconds, the date-time part formatted once per second."""

    def __init__(self) -> None:
        self._second = -1
        self._prefix = ""

    def __call__(self, _logger: object, _name: str, event: dict) -> dict:
        now = time.time()
        second = int(now)
        if second != self._second:
            self._second = second
            self._prefix = time.strftime("%Y-%m-%dT%H:%M:%S", time.localtime(second))
        event["timestamp"] = f"{self._prefix}.{int((now - second) * 1000):03d}"
        return event


class _Tee:
    """Where structlog lines go: stderr and, when a log dir is set, the log file.

    A request only queues its line; a writer thread writes what is queued every FLUSH_EVERY
    seconds. structlog flushes after every line, which made a write syscall per request on the event
    loop (4-6 % of its time in the bench's profile, part of it blocked on the disk); with the writer
    thread a slave did ~4,100 instead of ~3,700 req/s in an A/B run. Warnings and errors (and a
    queue grown past MAX_PENDING, a stuck disk) are written before the call returns, in order."""

    FLUSH_EVERY = 0.2
    MAX_PENDING = 50_000

    def __init__(self, path: Path | None) -> None:
        self._err = open(sys.stderr.fileno(), "wb", buffering=1 << 16, closefd=False)
        self._file = open(path, "ab", buffering=1 << 16) if path is not None else None
        self._pending: deque[bytes] = deque()  # append/popleft are atomic: no lock per line
        self._lock = threading.Lock()  # one writer at a time keeps lines in order
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="log-writer", daemon=True)
        self._thread.start()
        atexit.register(self.close)

    def write(self, data: bytes) -> None:
        self._pending.append(data)
        if len(self._pending) > self.MAX_PENDING or b'"level":"info"' not in data and b'"level":"debug"' not in data:
            self._drain()

    def flush(self) -> None:
        """structlog calls this after every line: the writer thread does the writing instead."""

    def _drain(self) -> None:
        with self._lock:
            parts = []
            pending = self._pending
            while pending:
                parts.append(pending.popleft())
            if not parts:
                return
            blob = b"".join(parts)
            try:
                self._err.write(blob)
                self._err.flush()
                if self._file is not None:
                    self._file.write(blob)
                    self._file.flush()
            except (ValueError, OSError):  # closed at interpreter exit, or the disk is gone
                pass

    def _run(self) -> None:
        while not self._stop.wait(self.FLUSH_EVERY):
            self._drain()

    def close(self) -> None:
        self._stop.set()
        self._drain()


def log_file_path(log_dir: str, only_one_file: bool) -> Path | None:
    if not log_dir:
        return None
    name = "oneapi.log" if only_one_file else f"oneapi-{datetime.now().strftime('%Y%m%d')}.log"
    return Path(log_dir).absolute() / name


def setup_logging(log_dir: str = "", only_one_file: bool = False, debug: bool = False) -> None:
    """Configure logging once for the process; safe to call again (tests do).

    Our lines are JSON objects rendered by structlog straight to the outputs (no stdlib logging on
    the request path: it cost ~70 µs a line); libraries' stdlib logs go to the same places."""
    path = log_file_path(log_dir, only_one_file)
    if path is not None:
        path.parent.mkdir(parents=True, exist_ok=True)
    handlers: list[logging.Handler] = [logging.StreamHandler(sys.stderr)]
    if path is not None:
        handlers.append(logging.FileHandler(path, encoding="utf-8"))
    root = logging.getLogger()
    for handler in list(root.handlers):
        root.removeHandler(handler)
    for handler in handlers:
        handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
        root.addHandler(handler)
    root.setLevel(logging.DEBUG if debug else logging.INFO)
    for noisy in ("aiosqlite", "asyncio", "hpack", "httpx", "httpcore", "alembic"):
        logging.getLogger(noisy).setLevel(logging.WARNING)
    tee = _Tee(path)  # an earlier one keeps writing for loggers that cached it
    processors: list[Any] = [  # structlog's Processor type wants MutableMapping; ours take dicts
        _add_request_id,
        structlog.processors.add_log_level,
        _Timestamp(),
        structlog.processors.format_exc_info,
        structlog.processors.JSONRenderer(serializer=_dumps),
    ]
    structlog.configure(
        processors=processors,
        logger_factory=structlog.BytesLoggerFactory(cast(BinaryIO, tee)),  # _Tee has the write/flush it uses
        wrapper_class=structlog.make_filtering_bound_logger(logging.DEBUG if debug else logging.INFO),
        cache_logger_on_first_use=True,
    )


def _dumps(event: dict, **_kw: object) -> bytes:
    return orjson.dumps(event, default=str)


def get_logger(name: str = "one-api") -> structlog.typing.FilteringBoundLogger:
    return structlog.get_logger(name)
