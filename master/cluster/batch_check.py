"""What a slave's quota batch may contain: only what a settled request leaves behind.

A settled cost is never negative (shared.billing.pricing.text_quota is >= 0 and reservations stay
in a node's memory, never shipped), so a negative spend, use or count can only be a forgery that
credits quota; statuses are the two marks a relay sets on a token and the auto-disable of a channel;
log rows are consume rows. A batch breaking any of these is refused whole, never applied in part;
a slave clamps what it ships (slave.spool.apply_entry) so that its own batches always pass.
"""

from __future__ import annotations

from typing import Any

from master.db.schema import logs
from master.logbook import LOG_CONSUME
from shared.relay.engine import CHANNEL_AUTO_DISABLED
from shared.relay.sink import DeltaBatch
from shared.snapshot import TOKEN_EXHAUSTED, TOKEN_EXPIRED

INT64_MAX = 2**63 - 1
_LOG_FIELDS = frozenset(logs.c.keys()) - {"id"}


def _count(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and 0 <= value <= INT64_MAX


def batch_problem(batch: DeltaBatch) -> str | None:
    """Why the master must refuse `batch`, or None when it may be applied."""
    sums = {
        "token_spent": batch.token_spent,
        "user_spent": batch.user_spent,
        "user_used": batch.user_used,
        "user_requests": batch.user_requests,
        "channel_used": batch.channel_used,
    }
    for name, amounts in sums.items():
        if not all(_count(v) for v in amounts.values()):
            return f"{name}: amounts must be between 0 and 2^63-1"
    if not all(s in (TOKEN_EXPIRED, TOKEN_EXHAUSTED) for s in batch.token_status.values()):
        return "token_status: only the expired and exhausted marks"
    if not all(status == CHANNEL_AUTO_DISABLED for status, _ in batch.channel_status.values()):
        return "channel_status: only the automatic disable"
    for row in batch.logs:
        if not isinstance(row, dict) or not _LOG_FIELDS.issuperset(row) or row.get("type") != LOG_CONSUME:
            return "logs: consume log rows only"
        if not _count(row.get("quota", 0)):
            return "logs: quota must be between 0 and 2^63-1"
    return None
