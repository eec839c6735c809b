"""Channel choice for (group, model): the highest priority tier first, weighted random inside it,
never a channel already tried in this request, channels in cooldown only when nothing else is left.

One API ignores `weight`; we honour it. Weight 0 (One API's default) counts as 1, so data moved over
keeps the uniform choice it had.
"""

from __future__ import annotations

import random
import time
from collections.abc import Iterable, Sequence

from shared.snapshot import ChannelEntry

COOLDOWN_SECONDS = 10.0


class Cooldowns:
    """Channels that answered 429/5xx rest for a short while instead of being disabled."""

    def __init__(self, seconds: float = COOLDOWN_SECONDS) -> None:
        self.seconds = seconds
        self._until: dict[int, float] = {}
        self.disabled: set[int] = set()  # disabled on this node, before the next snapshot says so

    def cool(self, channel_id: int) -> None:
        self._until[channel_id] = time.monotonic() + self.seconds

    def resting(self, channel_id: int) -> bool:
        until = self._until.get(channel_id)
        if until is None:
            return False
        if until <= time.monotonic():
            del self._until[channel_id]
            return False
        return True


_RNG = random.Random()


def _weighted(candidates: Sequence[ChannelEntry], rng: random.Random) -> ChannelEntry:
    if len(candidates) == 1:
        return candidates[0]
    weights = [c.weight if c.weight > 0 else 1 for c in candidates]
    return rng.choices(candidates, weights=weights, k=1)[0]


def choose(
    channels: Sequence[ChannelEntry],
    exclude: Iterable[int] = (),
    cooldowns: Cooldowns | None = None,
    rng: random.Random | None = None,
) -> ChannelEntry | None:
    """Pick from the best tier that still has an untried channel (sorted by priority, high first)."""
    pick = rng if rng is not None else _RNG
    excluded = set(exclude)
    disabled = cooldowns.disabled if cooldowns else set()
    usable = [c for c in channels if c.id not in excluded and c.id not in disabled]
    if not usable:
        return None
    rested = [c for c in usable if not (cooldowns and cooldowns.resting(c.id))]
    pool = rested or usable
    top = pool[0].priority
    tier = [c for c in pool if c.priority == top]
    return _weighted(tier, pick)
