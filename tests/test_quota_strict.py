"""The arithmetic of QUOTA_STRICT (shared/relay/strict.py) and the ledger's reservation growth."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from shared.relay.ledger import Ledger
from shared.relay.strict import MAX_INJECTED_TOKENS, Price, available, cap_max_tokens, cover

ratios = st.sampled_from([0.0375, 0.075, 0.25, 0.5, 1.0, 2.5, 5.0, 7.5, 15.0, 30.0, 0.1 * 3])


@settings(max_examples=500, deadline=None)
@given(
    st.integers(0, 200_000), ratios, st.sampled_from([0.0, 1.0, 4 / 3, 2.0, 3.0, 4.0, 5.0]), st.floats(0.5, 2.0), st.integers(0, 10_000_000)
)
def test_covered_is_the_exact_edge(prompt: int, model_ratio: float, completion_ratio: float, group: float, budget: int) -> None:
    price = Price(prompt, model_ratio * group, completion_ratio)
    covered = price.covered(budget)
    if completion_ratio == 0:
        assert covered is None
        return
    if covered >= 0:
        assert price.cost(covered) <= budget
    else:
        assert covered == -1 and price.cost(0) > budget
    assert price.cost(covered + 1) > budget


async def test_extend_grows_a_reservation_atomically() -> None:
    ledger = Ledger()
    ledger.token_remain.offsets, ledger.user_quota.offsets = {1: 100}, {7: 1000}
    reservation = await ledger.reserve(1, 7, True, 60)
    assert available(ledger, reservation) == 40
    assert not await ledger.extend(reservation, 41)  # refused whole: nothing changed
    assert (reservation.amount, ledger.token_balance(1), ledger.inflight_tokens) == (60, 40, {1: 60})
    assert await ledger.extend(reservation, 40)
    assert (reservation.amount, ledger.token_balance(1), ledger.inflight_tokens, ledger.inflight_users) == (100, 0, {1: 100}, {7: 100})
    await ledger.adjust(reservation, 90)  # settles the grown reservation: 10 back
    assert (ledger.token_balance(1), ledger.user_balance(7), ledger.inflight_tokens) == (10, 910, {})


async def test_cover_takes_what_the_balance_holds_and_no_more() -> None:
    ledger = Ledger()
    ledger.token_remain.offsets, ledger.user_quota.offsets = {1: 50}, {7: 1000}
    reservation = await ledger.reserve(1, 7, True, 20)
    assert await cover(ledger, reservation, 45) == 0 and reservation.amount == 45
    assert await cover(ledger, reservation, 80) == 30  # only 5 of the 35 missing was left
    assert reservation.amount == 50 and ledger.token_balance(1) == 0
    await ledger.adjust(reservation, 80 - 30)
    assert ledger.token_balance(1) == 0 and ledger.user_balance(7) == 950


async def test_cap_max_tokens_only_below_the_ceiling() -> None:
    ledger = Ledger()
    ledger.token_remain.offsets, ledger.user_quota.offsets = {1: 635}, {7: 10**9}
    price = Price(prompt_tokens=20, ratio=0.25, completion_ratio=3)
    reservation = await ledger.reserve(1, 7, True, 130)
    cap = cap_max_tokens(ledger, reservation, price)
    assert cap is not None and price.cost(cap) <= 635 < price.cost(cap + 1)
    ledger.token_remain[1] = 10**9
    assert cap_max_tokens(ledger, reservation, price) is None  # a rich token's request is left alone
    ledger.token_remain[1] = -130
    assert cap_max_tokens(ledger, reservation, Price(prompt_tokens=1000, ratio=0.25, completion_ratio=3)) == 0
    assert MAX_INJECTED_TOKENS == 4096
