"""The master's memory of call nonces, so a captured signed call is refused the second time.

A nonce must be remembered only while its signed time is still accepted (crypto.AUTH_WINDOW either
side of now); older ones are forgotten a second at a time. The count is capped: past the cap new
calls are refused until old nonces expire, so no volume of (validly signed) calls grows the memory
without bound. Nonces are only recorded after their signature checked out, so the cap can be
reached only by holders of the cluster secret.
"""

from __future__ import annotations

import time
from enum import Enum

from shared.cluster.crypto import AUTH_WINDOW, SignedCall


class Verdict(Enum):
    FRESH = "fresh"
    REPLAYED = "replayed"
    FULL = "full"  # the cache holds its cap: refused for now, not a replay


class NonceCache:
    def __init__(self, cap: int, window: int = AUTH_WINDOW) -> None:
        self.cap, self.window = cap, window
        self._by_second: dict[int, set[str]] = {}  # signed time -> nonces seen with it
        self._count = 0
        self._swept = -1

    def __len__(self) -> int:
        return self._count

    def admit(self, call: SignedCall, now: float | None = None) -> Verdict:
        """Record the call's nonce; FRESH the first time it is seen inside its window."""
        now = time.time() if now is None else now
        self._expire(now)
        seen = self._by_second.get(call.stamp)
        if seen is not None and call.nonce in seen:
            return Verdict.REPLAYED
        if self._count >= self.cap:
            return Verdict.FULL
        if seen is None:
            seen = self._by_second[call.stamp] = set()
        seen.add(call.nonce)
        self._count += 1
        return Verdict.FRESH

    def _expire(self, now: float) -> None:
        """Forget the seconds whose calls are outside the window by now (at most once a second)."""
        second = int(now)
        if second == self._swept:
            return
        self._swept = second
        for stamp in [s for s in self._by_second if s + self.window < now]:
            self._count -= len(self._by_second.pop(stamp))
