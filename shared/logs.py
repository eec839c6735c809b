"""Structured logging (structlog) with the request id bound to every line of a request.

Lines go to stderr and, as One API does, to `<log-dir>/oneapi-YYYYMMDD.log` (or `oneapi.log`
with ONLY_ONE_LOG_FILE=true).
"""

from __future__ import annotations

import logging
import random
import sys
import time
from contextvars import ContextVar
from datetime import datetime
from pathlib import Path

import structlog

request_id_var: ContextVar[str] = ContextVar("request_id", default="")


def new_request_id() -> str:
    """One API's format: local YYYYMMDDhhmmss + nanoseconds % 1e9 + 8 random digits."""
    now = time.time_ns()
    stamp = datetime.fromtimestamp(now / 1e9).strftime("%Y%m%d%H%M%S")
    return f"{stamp}{now % 1_000_000_000}{random.randint(0, 99_999_999):08d}"


def _add_request_id(_logger: object, _name: str, event: dict) -> dict:
    rid = request_id_var.get()
    if rid:
        event.setdefault("request_id", rid)
    return event


def log_file_path(log_dir: str, only_one_file: bool) -> Path | None:
    if not log_dir:
        return None
    name = "oneapi.log" if only_one_file else f"oneapi-{datetime.now().strftime('%Y%m%d')}.log"
    return Path(log_dir).absolute() / name


def setup_logging(log_dir: str = "", only_one_file: bool = False, debug: bool = False) -> None:
    """Configure structlog once for the process; safe to call again (tests do)."""
    handlers: list[logging.Handler] = [logging.StreamHandler(sys.stderr)]
    path = log_file_path(log_dir, only_one_file)
    if path is not None:
        path.parent.mkdir(parents=True, exist_ok=True)
        handlers.append(logging.FileHandler(path, encoding="utf-8"))
    root = logging.getLogger()
    for handler in list(root.handlers):
        root.removeHandler(handler)
    for handler in handlers:
        handler.setFormatter(logging.Formatter("%(message)s"))
        root.addHandler(handler)
    root.setLevel(logging.DEBUG if debug else logging.INFO)
    for noisy in ("aiosqlite", "asyncio", "hpack", "httpx", "httpcore", "alembic"):
        logging.getLogger(noisy).setLevel(logging.WARNING)
    structlog.configure(
        processors=[
            structlog.contextvars.merge_contextvars,
            _add_request_id,
            structlog.processors.add_log_level,
            structlog.processors.TimeStamper(fmt="iso", utc=False),
            structlog.processors.KeyValueRenderer(key_order=["timestamp", "level", "event"]),
        ],
        logger_factory=structlog.stdlib.LoggerFactory(),
        wrapper_class=structlog.make_filtering_bound_logger(logging.DEBUG if debug else logging.INFO),
        cache_logger_on_first_use=False,
    )


def get_logger(name: str = "one-api") -> structlog.stdlib.BoundLogger:
    return structlog.get_logger(name)
