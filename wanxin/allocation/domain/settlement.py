"""Fees against the balance, profit withdrawal, settlement and the platform's exposure.

Settlement (issue 12): ``settle = finalTotalAssets − totalCapital``.
- positive: paid from PLATFORM_CAPITAL to the customer;
- negative: the loss is taken from the frozen deposit, then the frozen risk fund, to
  PLATFORM_CAPITAL; a loss beyond both is the customer's debt;
- then arrears are taken from what stays frozen (deposit first); arrears beyond that stay
  owed;
- whatever stays frozen is released.
The customer's overall result is ``settle + Σ profit withdrawn``.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from wanxin.core.money import format_fen

from .errors import RuleError, gettext_noop


@dataclass(frozen=True)
class FeeOutcome:
    paid: int
    arrears: int


def charge_fee(fee: int, available: int) -> FeeOutcome:
    """A fee the available balance cannot cover becomes arrears as a whole (one charge is
    one bank transfer or none)."""
    if fee < 0 or available < 0:
        raise ValueError("fee and balance must not be negative")
    return FeeOutcome(paid=fee, arrears=0) if available >= fee else FeeOutcome(paid=0, arrears=fee)


def withdrawable_profit(total_assets: int, total_capital: int) -> int:
    return max(total_assets - total_capital, 0)


def check_profit_withdrawal(amount: object, *, total_assets: int, total_capital: int) -> int:
    if type(amount) is not int or amount <= 0:
        raise RuleError(gettext_noop("Give a positive whole number of fen."), field="amount")
    most = withdrawable_profit(total_assets, total_capital)
    if amount > most:
        raise RuleError(gettext_noop("At most %(most)s can be withdrawn: the recorded total assets above "
                                     "the total capital."), field="amount", most=format_fen(most))
    return amount


@dataclass(frozen=True)
class Settlement:
    settle: int
    payout: int  # PLATFORM_CAPITAL → customer
    loss_from_deposit: int  # frozen deposit → PLATFORM_CAPITAL
    loss_from_risk_fund: int  # frozen risk fund → PLATFORM_CAPITAL
    loss_debt: int  # the loss beyond both: the customer's debt
    arrears_from_deposit: int  # frozen deposit → PLATFORM_INCOME
    arrears_from_risk_fund: int
    arrears_unpaid: int  # still owed after settlement
    release_deposit: int  # unfrozen back to the customer
    release_risk_fund: int

    @property
    def loss(self) -> int:
        return max(-self.settle, 0)

    @property
    def debt(self) -> int:
        """What the customer still owes once it is settled."""
        return self.loss_debt + self.arrears_unpaid


def settle(*, final_total_assets: int, total_capital: int, deposit_frozen: int, risk_fund_frozen: int,
           arrears: int) -> Settlement:
    for name, value in (("final_total_assets", final_total_assets), ("total_capital", total_capital),
                        ("deposit_frozen", deposit_frozen), ("risk_fund_frozen", risk_fund_frozen),
                        ("arrears", arrears)):
        if type(value) is not int or value < 0:
            raise RuleError(gettext_noop("Give a whole number of fen, not negative."), field=name)
    result = final_total_assets - total_capital
    loss = max(-result, 0)
    from_deposit = min(loss, deposit_frozen)
    from_risk = min(loss - from_deposit, risk_fund_frozen)
    deposit_left, risk_left = deposit_frozen - from_deposit, risk_fund_frozen - from_risk
    arrears_deposit = min(arrears, deposit_left)
    arrears_risk = min(arrears - arrears_deposit, risk_left)
    return Settlement(
        settle=result,
        payout=max(result, 0),
        loss_from_deposit=from_deposit,
        loss_from_risk_fund=from_risk,
        loss_debt=loss - from_deposit - from_risk,
        arrears_from_deposit=arrears_deposit,
        arrears_from_risk_fund=arrears_risk,
        arrears_unpaid=arrears - arrears_deposit - arrears_risk,
        release_deposit=deposit_left - arrears_deposit,
        release_risk_fund=risk_left - arrears_risk,
    )


def overall_result(settle_amount: int, profit_withdrawn: int) -> int:
    """What the allocation earned or lost the customer in all."""
    return settle_amount + profit_withdrawn


def exposure_limit(capital_available: int, share: Decimal) -> Decimal:
    return Decimal(capital_available) * share


def check_exposure(*, committed: int, requested: int, capital_available: int, share: Decimal) -> None:
    """Σ allocated of allocations not settled, with this one, never exceeds ``share`` of
    PLATFORM_CAPITAL's available balance; a refusal gives the figures."""
    limit = exposure_limit(capital_available, share)
    if Decimal(committed + requested) > limit:
        raise RuleError(
            gettext_noop("Approving this would commit %(total)s (%(committed)s already committed + "
                         "%(requested)s), above the limit of %(limit)s (%(share)s of the platform "
                         "capital's available %(capital)s)."),
            field="exposure", total=format_fen(committed + requested), committed=format_fen(committed),
            requested=format_fen(requested), limit=format_fen(int(limit)), share=str(share),
            capital=format_fen(capital_available))
