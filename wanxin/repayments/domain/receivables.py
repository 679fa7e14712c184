"""Investor receivables: each period's interest pool split among holdings; the platform's share."""

from __future__ import annotations

import datetime as dt
from collections.abc import Hashable, Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal, localcontext
from typing import TypeVar

from wanxin.core.loan_terms import _PRECISION, check_annual_rate
from wanxin.core.money import allocate, round_half_up
from wanxin.core.schedules import Period

# -- investor receivables ---------------------------------------------------------------------------

K = TypeVar("K", bound=Hashable)


@dataclass(frozen=True)
class ReceivablePart:
    """One investor's share of one borrower period. ``amount = principal + interest``;
    ``remaining`` is the investor's principal still outstanding after this period."""

    number: int
    due: dt.date | None
    principal: int
    interest: int
    amount: int
    remaining: int


def investor_interest_pool(borrower_interest: int, investor_rate: Decimal, borrower_rate: Decimal) -> int:
    """What the investors together earn of a period's borrower interest:
    ``round_half_up(borrower_interest × investor_rate / borrower_rate)``. Never more than the
    borrower's interest when ``investor_rate ≤ borrower_rate`` (rounding is monotone)."""
    if borrower_rate == 0:
        return 0
    with localcontext() as ctx:
        ctx.prec = _PRECISION
        return round_half_up(Decimal(borrower_interest) * investor_rate / borrower_rate)


def investor_receivables(borrower_schedule: Sequence[Period], holdings: Mapping[K, int],
                         investor_rate: Decimal, borrower_rate: Decimal) -> dict[K, list[ReceivablePart]]:
    """Split every borrower period among the investors who hold the loan.

    ``holdings``: each investor's principal in fen (their tender amounts); they must add up to
    the schedule's principal. Ties in the largest-remainder splits go to the earlier key, so
    pass holdings in a stable order (for example by tender id).

    Principal: each period's borrower principal is split by ``allocate`` in proportion to
    each investor's principal *still outstanding* at the start of the period. The parts add
    up to the borrower's principal in every period; no part exceeds the investor's
    outstanding principal; and in the last period, when the borrower repays everything that
    remains, each investor's part is exactly their outstanding principal, so over the whole
    schedule each investor receives exactly their holding. (Allocating cumulative totals by
    the original holdings instead can make a period's part negative: largest remainder is
    not monotone in the total, the Alabama paradox.)

    Interest: the investors' pool for the period is the borrower's interest scaled by
    ``investor_rate / borrower_rate`` and rounded half up (``investor_interest_pool``), which
    is interest at the investor rate on the loan's outstanding principal for the period;
    the pool is split by ``allocate`` in proportion to each investor's outstanding principal
    at the start of the period. The platform's share, ``borrower interest − pool``, is
    therefore never negative. ``investor_rate`` above ``borrower_rate`` is refused."""
    if not borrower_schedule:
        raise ValueError("The borrower schedule is empty.")
    if not holdings:
        raise ValueError("There are no holdings to split the schedule among.")
    investor_rate = check_annual_rate(investor_rate, field="investorRate")
    borrower_rate = check_annual_rate(borrower_rate, field="borrowerRate")
    if investor_rate > borrower_rate:
        raise ValueError("The investor rate must not be above the borrower rate: the platform's share "
                         "would be negative.")
    for key, amount in holdings.items():
        if type(amount) is not int or amount <= 0:
            raise ValueError(f"The holding of {key!r} must be a positive whole number of fen.")
    for period in borrower_schedule:
        if min(period.principal, period.interest) < 0:
            raise ValueError(f"Period {period.number} has a negative part.")
    loan = sum(p.principal for p in borrower_schedule)
    if sum(holdings.values()) != loan:
        raise ValueError(f"The holdings add up to {sum(holdings.values())} fen but the schedule's principal "
                         f"is {loan} fen.")

    keys = list(holdings)
    outstanding = [holdings[k] for k in keys]
    result: dict[K, list[ReceivablePart]] = {k: [] for k in keys}
    for period in borrower_schedule:
        pool = investor_interest_pool(period.interest, investor_rate, borrower_rate)
        if sum(outstanding):
            principals = allocate(period.principal, outstanding)
            interests = allocate(pool, outstanding)
        elif period.principal or pool:  # pragma: no cover - holdings add up to the principal
            raise ValueError(f"Period {period.number} has money to split but nothing is outstanding.")
        else:
            principals = interests = [0] * len(keys)
        for i, key in enumerate(keys):
            outstanding[i] -= principals[i]
            result[key].append(ReceivablePart(number=period.number, due=period.due, principal=principals[i],
                                              interest=interests[i], amount=principals[i] + interests[i],
                                              remaining=outstanding[i]))
    return result


def platform_shares(borrower_schedule: Sequence[Period],
                    receivables: Mapping[K, Sequence[ReceivablePart]]) -> list[int]:
    """Per period: what the borrower pays minus what all investors receive (the platform's
    interest margin), in schedule order."""
    shares = []
    for index, period in enumerate(borrower_schedule):
        shares.append(period.payment - sum(parts[index].amount for parts in receivables.values()))
    return shares


