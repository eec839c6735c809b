"""Success-rate based disabling (docs/one-api-compat.md §7.3, ENABLE_METRIC=true).

The relay engine reports each attempt through its `on_result(channel_id, ok, disabled_already)`
hook. One API passes the events through buffered channels to two consumer goroutines; here the
window update is a few list operations, so it runs inline on the event loop and nothing is queued
or lost (METRIC_SUCCESS_CHAN_SIZE / METRIC_FAIL_CHAN_SIZE have nothing to size). The disabling
itself (a database write and a notification) is handed to `on_disable`, which must not block.
"""

from __future__ import annotations

from collections.abc import Callable


class MetricWindow:
    """Per-channel list of recent results with One API's exact window rules."""

    def __init__(self, queue_size: int, threshold: float, on_disable: Callable[[int, float], None]) -> None:
        self.queue_size = queue_size
        self.threshold = threshold
        self.on_disable = on_disable
        self.store: dict[int, list[bool]] = {}

    def _append(self, channel_id: int, ok: bool) -> list[bool]:
        window = self.store.setdefault(channel_id, [])
        if len(window) > self.queue_size:  # "greater than": the window can hold size + 1 entries
            del window[0]
        window.append(ok)
        return window

    def record(self, channel_id: int, ok: bool, disabled_already: bool = False) -> None:
        """One attempt's outcome. A failure that already disabled the channel is not counted."""
        if disabled_already:
            return
        window = self._append(channel_id, ok)
        if ok:
            return
        rate = sum(window) / len(window)
        if len(window) >= self.queue_size and rate < self.threshold:
            self.store[channel_id] = []
            self.on_disable(channel_id, rate)
