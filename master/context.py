"""Everything a master request handler may need, built once at start-up (no hidden globals)."""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field

from starlette.requests import Request

from master.auth_cache import AuthCache
from master.db.store import Store
from master.options import Options
from master.ratelimit import RateLimiter
from shared.logs import get_logger
from shared.settings import Settings

log = get_logger(__name__)

ChangeListener = Callable[[str], Awaitable[None]]


@dataclass
class MasterContext:
    settings: Settings
    store: Store
    options: Options
    limiter: RateLimiter
    started_at: int = field(default_factory=lambda: int(time.time()))
    # Sessions and users' current role and status, as /api checks them (master/sessions.py).
    auth: AuthCache = field(default_factory=AuthCache)
    config_version: int = 0
    listeners: list[ChangeListener] = field(default_factory=list)

    async def changed(self, what: str) -> None:
        """Call after every write through /api: bumps the config version and tells listeners
        (the change feed, which applies and publishes the rows the write touched)."""
        self.config_version += 1
        for listener in self.listeners:
            try:
                await listener(what)
            except Exception:  # a listener's failure must not fail the admin's write
                log.exception("config change listener failed", what=what)


def get_ctx(request: Request) -> MasterContext:
    return request.app.state.ctx
