"""What a settled request leaves behind, batched for the database (master) or the master (slave).

A batch is plain sums per id plus log rows, so the master applies it in one transaction with one
statement per table (master/db/bulk.py).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Protocol


@dataclass
class DeltaBatch:
    token_spent: dict[int, int] = field(default_factory=dict)  # limited tokens only: remain -= , used +=
    user_spent: dict[int, int] = field(default_factory=dict)  # users.quota -=
    user_used: dict[int, int] = field(default_factory=dict)  # users.used_quota +=
    user_requests: dict[int, int] = field(default_factory=dict)  # users.request_count +=
    channel_used: dict[int, int] = field(default_factory=dict)  # channels.used_quota +=
    token_status: dict[int, int] = field(default_factory=dict)  # expired / exhausted marks
    channel_status: dict[int, tuple[int, str]] = field(default_factory=dict)  # auto-disable, with reason
    logs: list[dict[str, Any]] = field(default_factory=list)

    def empty(self) -> bool:
        return not (
            self.token_spent
            or self.user_spent
            or self.user_used
            or self.user_requests
            or self.channel_used
            or self.token_status
            or self.channel_status
            or self.logs
        )

    def spend(self, token_id: int, user_id: int, token_limited: bool, amount: int) -> None:
        if amount == 0:
            return
        if token_limited:
            self.token_spent[token_id] = self.token_spent.get(token_id, 0) + amount
        self.user_spent[user_id] = self.user_spent.get(user_id, 0) + amount

    def usage(self, user_id: int, channel_id: int, quota: int, log: dict[str, Any] | None) -> None:
        self.user_used[user_id] = self.user_used.get(user_id, 0) + quota
        self.user_requests[user_id] = self.user_requests.get(user_id, 0) + 1
        if channel_id:
            self.channel_used[channel_id] = self.channel_used.get(channel_id, 0) + quota
        if log is not None:
            self.logs.append(log)


class QuotaSink(Protocol):
    """Where the engine hands what it settled. Calls never block; the sink ships batches later."""

    def spend(self, token_id: int, user_id: int, token_limited: bool, amount: int) -> None: ...

    def usage(self, user_id: int, channel_id: int, quota: int, log: dict[str, Any] | None) -> None: ...

    def mark_token(self, token_id: int, status: int) -> None: ...

    def disable_channel(self, channel_id: int, status: int, reason: str) -> None: ...
