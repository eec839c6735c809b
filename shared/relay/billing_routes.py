"""OpenAI's old billing routes (docs/one-api-compat.md §4.13), answered from the snapshot and live balances."""

from __future__ import annotations

from starlette.types import Send

from shared.relay.auth import Caller
from shared.relay.http import send_json

UNLIMITED_USD = 100000000


def _per_unit(engine: object) -> float:
    return engine.snapshot.option_float("QuotaPerUnit") or 500000  # type: ignore[attr-defined]


def _plain(value: float) -> float | int:
    return int(value) if float(value).is_integer() else value


async def subscription(engine: object, caller: Caller, send: Send) -> None:
    snapshot = engine.snapshot  # type: ignore[attr-defined]
    ledger = engine.ledger  # type: ignore[attr-defined]
    token = caller.token
    if snapshot.option_flag("DisplayTokenStatEnabled"):
        quota = ledger.token_balance(token.id) + ledger.token_used.get(token.id, token.used_quota)
        access_until = token.expired_time if token.expired_time > 0 else 0
    else:
        quota = ledger.user_balance(caller.user.id)
        access_until = 0
    amount: float = quota / _per_unit(engine) if snapshot.option_flag("DisplayInCurrencyEnabled") else quota
    if snapshot.option_flag("DisplayTokenStatEnabled") and token.unlimited_quota:
        amount = UNLIMITED_USD
    amount = _plain(amount)
    await send_json(
        send,
        200,
        {
            "object": "billing_subscription",
            "has_payment_method": True,
            "soft_limit_usd": amount,
            "hard_limit_usd": amount,
            "system_hard_limit_usd": amount,
            "access_until": access_until,
        },
    )


async def usage(engine: object, caller: Caller, send: Send) -> None:
    snapshot = engine.snapshot  # type: ignore[attr-defined]
    ledger = engine.ledger  # type: ignore[attr-defined]
    if snapshot.option_flag("DisplayTokenStatEnabled"):
        used = 0 if caller.token.unlimited_quota else ledger.token_used.get(caller.token.id, caller.token.used_quota)
    else:
        used = ledger.user_used.get(caller.user.id, caller.user.used_quota)
    amount: float = used / _per_unit(engine) if snapshot.option_flag("DisplayInCurrencyEnabled") else used
    await send_json(send, 200, {"object": "list", "total_usage": _plain(amount * 100)})
