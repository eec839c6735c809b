"""QUOTA_STRICT: a token's and a user's balance is a hard cap for text requests (issue 12 item 8).

One API reserves an estimate, int((PreConsumedQuota + prompt + max_tokens) × ratio), and charges the
answer's full cost afterwards, so long answers in parallel overspend (five of them spent 7,515 from a
635-quota token). With QUOTA_STRICT=true (the default) three things hold instead:

1. A chat or completion request that sets no max_tokens (nor max_completion_tokens) is sent with the
   max_tokens its reservation plus the balance still covers, when that is under MAX_INJECTED_TOKENS
   (every model accepts such a number; a larger one could exceed a model's own output limit and turn
   a valid request into an upstream 400, so it is left out and 2 and 3 keep the bound).
2. A stream's running cost is metered as it arrives; whenever it passes the reservation, the
   reservation is grown (atomically, like the first one: Redis across the fleet, the local ledger
   otherwise); when the balance cannot cover the growth the stream is ended with a final chunk whose
   finish_reason is "length", then [DONE].
3. At settlement, a cost above the reservation is first reserved like (2); whatever the balance could
   not cover is not charged. So a settlement never takes a balance below zero, and no request is
   charged more than its token and user held. The operator carries the provider cost the balance
   could not pay: for a stream at most its last chunk (metered line by line); for a non-stream answer its cost beyond the
   balance, possible only when the provider ignores max_tokens, the client set its own, or the
   balance covered MAX_INJECTED_TOKENS or more when the request was sent.

Costs are the gateway's formula, ceil((prompt + completion × completion ratio) × model ratio × group
ratio) (shared.billing.pricing.text_quota), with the gateway's prompt estimate while streaming.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import orjson

from shared.billing import pricing, tokenizer
from shared.relay import modes
from shared.relay.adaptors.common import now
from shared.relay.ledger import Ledger, Reservation
from shared.relay.prompt import utf8_size

MAX_INJECTED_TOKENS = 4096  # every current chat model accepts max_tokens up to this


@dataclass(frozen=True)
class Price:
    """The cost of an answer of a given length for one request on one model."""

    prompt_tokens: int
    ratio: float  # model ratio × group ratio
    completion_ratio: float

    def cost(self, completion_tokens: int) -> int:
        return pricing.text_quota(self.prompt_tokens, completion_tokens, self.ratio, 1.0, self.completion_ratio)

    def covered(self, budget: int) -> int | None:
        """The most completion tokens whose cost fits `budget` (-1 when not even the prompt fits);
        None when completion tokens cost nothing."""
        per_token = self.ratio * self.completion_ratio
        if per_token <= 0:
            return None
        guess = max(-1, math.floor((budget / self.ratio - self.prompt_tokens) / self.completion_ratio))
        while guess >= 0 and self.cost(guess) > budget:  # float rounding: step down to the exact edge
            guess -= 1
        while self.cost(guess + 1) <= budget:
            guess += 1
        return guess


def available(ledger: Ledger, reservation: Reservation) -> int:
    """What the token (when limited) and the user still hold beside this reservation."""
    user = ledger.user_balance(reservation.user_id)
    return min(user, ledger.token_balance(reservation.token_id)) if reservation.token_limited else user


def wants_max_tokens(mode: int, request: dict[str, Any]) -> bool:
    return mode in (modes.CHAT, modes.COMPLETIONS) and not request.get("max_tokens") and not request.get("max_completion_tokens")


def cap_max_tokens(ledger: Ledger, reservation: Reservation, price: Price) -> int | None:
    """The max_tokens to send (rule 1): None to leave the request as it is, 0 when the balance does
    not cover a single completion token."""
    covered = price.covered(reservation.amount + max(0, available(ledger, reservation)))
    if covered is None or covered >= MAX_INJECTED_TOKENS:
        return None
    return max(0, covered)


async def cover(ledger: Ledger, reservation: Reservation, cost: int, step: int = 0) -> int:
    """Grow the reservation toward `cost` (rule 2 and 3): by max(shortfall, step) when the balance
    holds it, else by what it still holds. Returns the shortfall left uncovered (0: covered)."""
    short = cost - reservation.amount
    if short <= 0:
        return 0
    if step > short and await ledger.extend(reservation, step):
        return 0
    if await ledger.extend(reservation, short):
        return 0
    rest = min(short, available(ledger, reservation))
    if rest > 0 and await ledger.extend(reservation, rest):
        return short - rest
    return short


class StreamMeter:
    """Rule 2 for one stream: `allows` after each read says whether the stream may go on.

    Cheap while the answer is well inside the reservation: a text of n bytes is at most n tokens,
    so counting starts only once that bound passes the reservation, and then counts each read's new
    text once."""

    def __init__(self, ledger: Ledger, reservation: Reservation, price: Price, model: str, approximate: bool) -> None:
        self.ledger, self.reservation, self.price = ledger, reservation, price
        self.model, self.approximate = model, approximate
        self.counted_tokens = 0  # exact count of the parts counted so far
        self.uncounted: list[str] = []
        self.uncounted_bytes = 0
        self.seen = 0

    def within(self, parts: list[str]) -> bool:
        """The cheap, synchronous check (called per line): True while the answer's bytes, an upper
        bound of its tokens, still fit the reservation. When it says False, `allows` decides."""
        for part in parts[self.seen :]:
            self.uncounted.append(part)
            self.uncounted_bytes += utf8_size(part)
        self.seen = len(parts)
        return self.price.cost(self.counted_tokens + self.uncounted_bytes) <= self.reservation.amount

    async def allows(self, parts: list[str]) -> bool:
        if self.within(parts):
            return True
        self.counted_tokens += tokenizer.count_text("".join(self.uncounted), self.model, self.approximate)
        self.uncounted, self.uncounted_bytes = [], 0
        cost = self.price.cost(self.counted_tokens)
        # Grow by at least the reservation's size again, so a long answer takes few round trips.
        return await cover(self.ledger, self.reservation, cost, step=cost - self.reservation.amount + self.reservation.amount // 2) == 0


def length_chunk(mode: int, request_id: str, model: str) -> bytes:
    """The final chunk of a stream ended by rule 2."""
    if mode == modes.COMPLETIONS:
        choice: dict[str, Any] = {"text": "", "index": 0, "logprobs": None, "finish_reason": "length"}
        return orjson.dumps(
            {"id": f"cmpl-{request_id}", "object": "text_completion", "created": now(), "model": model, "choices": [choice]}
        )
    choice = {"index": 0, "delta": {}, "logprobs": None, "finish_reason": "length"}
    return orjson.dumps(
        {"id": f"chatcmpl-{request_id}", "object": "chat.completion.chunk", "created": now(), "model": model, "choices": [choice]}
    )
