"""Pure rules of lending: status machines, application and review limits, the bid rules.
No Django here (import-linter enforces it)."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from wanxin.core.money import format_fen, round_half_up

METHODS = ("EQUAL_INSTALLMENT", "EQUAL_PRINCIPAL", "INTEREST_FIRST", "BULLET")
METHOD_LABELS = {
    "EQUAL_INSTALLMENT": "Equal installment 等额本息",
    "EQUAL_PRINCIPAL": "Equal principal 等额本金",
    "INTEREST_FIRST": "Interest first 先息后本",
    "BULLET": "Bullet 一次性还本付息",
}
MAX_RATE = Decimal("0.36")
MAX_FEE_RATE = Decimal("0.20")


def gettext_noop(text: str) -> str:
    """Marks a message for the translation catalogue; the edge translates ``RuleError.template``."""
    return text


class RuleError(ValueError):
    """A refusal of one input; ``field`` names it. ``template`` (English, %-style) and
    ``params`` let the edge translate it; ``message`` is the English text."""

    def __init__(self, template: str, *, field: str = "", **params: object) -> None:
        self.template = template
        self.params = params
        self.message = template % params if params else template
        super().__init__(self.message)
        self.field = field


# -- status machines (DESIGN §6): the one table each; anything else is an error ---------------

DRAFT, PENDING_REVIEW, REJECTED, COLLECTING = "DRAFT", "PENDING_REVIEW", "REJECTED", "COLLECTING"
FULL, MISCARRIED, REPAYING, FINISHED = "FULL", "MISCARRIED", "REPAYING", "FINISHED"
PROJECT_STATUSES = (DRAFT, PENDING_REVIEW, REJECTED, COLLECTING, FULL, MISCARRIED, REPAYING, FINISHED)
PROJECT_MOVES: dict[str, frozenset[str]] = {
    DRAFT: frozenset({PENDING_REVIEW}),
    PENDING_REVIEW: frozenset({REJECTED, COLLECTING}),
    REJECTED: frozenset(),
    COLLECTING: frozenset({FULL, MISCARRIED}),
    # A full loan whose disbursement is refused may still be cancelled (miscarried).
    FULL: frozenset({REPAYING, MISCARRIED}),
    MISCARRIED: frozenset(),
    REPAYING: frozenset({FINISHED}),
    FINISHED: frozenset(),
}
# A borrower has at most one application in these states.
OPEN_STATUSES = (DRAFT, PENDING_REVIEW, COLLECTING, FULL)
# Shown in the financing hall.
PUBLIC_STATUSES = (COLLECTING, FULL, REPAYING, FINISHED, MISCARRIED)

T_PENDING, T_FROZEN, T_LOANED, T_REFUNDED, T_FAILED = "PENDING", "FROZEN", "LOANED", "REFUNDED", "FAILED"
TENDER_STATUSES = (T_PENDING, T_FROZEN, T_LOANED, T_REFUNDED, T_FAILED)
TENDER_MOVES: dict[str, frozenset[str]] = {
    T_PENDING: frozenset({T_FROZEN, T_FAILED}),
    T_FROZEN: frozenset({T_LOANED, T_REFUNDED}),
    T_LOANED: frozenset(),
    T_REFUNDED: frozenset(),
    T_FAILED: frozenset(),
}
# Tenders that count against the per-investor cap.
LIVE_TENDER_STATUSES = (T_PENDING, T_FROZEN, T_LOANED)


class IllegalTransition(ValueError):
    pass


def check_move(table: dict[str, frozenset[str]], old: str, new: str) -> None:
    if new not in table.get(old, frozenset()):
        raise IllegalTransition(f"cannot go from {old} to {new}")


# -- application ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class ProductLimits:
    min_amount: int
    max_amount: int
    amount_step: int
    min_months: int
    max_months: int


def check_application(*, amount: object, months: object, method: object, purpose: str, description: str,
                      limits: ProductLimits, credit_limit: int, in_use: int) -> None:
    """Refuse an application outside the product's limits or the borrower's remaining limit
    (``credit_limit − in_use``, where ``in_use`` is the amount of their other live loans)."""
    if type(amount) is not int:
        raise RuleError(gettext_noop("The amount must be a whole number of fen."), field="amount")
    if amount <= 0:
        raise RuleError(gettext_noop("The amount must be positive."), field="amount")
    if amount < limits.min_amount or amount > limits.max_amount:
        raise RuleError(gettext_noop("The amount must be between %(min)s and %(max)s."), field="amount",
                        min=format_fen(limits.min_amount), max=format_fen(limits.max_amount))
    if amount % limits.amount_step:
        raise RuleError(gettext_noop("The amount must be a multiple of %(step)s."), field="amount",
                        step=format_fen(limits.amount_step))
    if amount > credit_limit - in_use:
        raise RuleError(gettext_noop("The amount is over your borrowing limit: %(left)s is left."), field="amount",
                        left=format_fen(max(credit_limit - in_use, 0)))
    if type(months) is not int or not limits.min_months <= months <= limits.max_months:
        raise RuleError(gettext_noop("The term must be %(min)s to %(max)s months."), field="months",
                        min=limits.min_months, max=limits.max_months)
    if method not in METHODS:
        raise RuleError(gettext_noop("Choose a repayment method."), field="method")
    if not purpose.strip() or len(purpose) > 100:
        raise RuleError(gettext_noop("Say what the loan is for (at most 100 characters)."), field="purpose")
    if len(description) > 2000:
        raise RuleError(gettext_noop("The description has at most 2000 characters."), field="description")


# -- review ----------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Terms:
    borrower_rate: Decimal
    investor_rate: Decimal
    service_fee_rate: Decimal
    window_days: int
    min_investment: int
    increment: int
    per_investor_cap: int


def _rate(value: object, field: str, *, maximum: Decimal, allow_zero: bool = False) -> Decimal:
    if not isinstance(value, Decimal) or not value.is_finite():
        raise RuleError(gettext_noop("A rate is a decimal such as 0.12."), field=field)
    if value < 0 or (value == 0 and not allow_zero) or value > maximum:
        template = (gettext_noop("The rate must be 0 to %(max)s.") if allow_zero
                    else gettext_noop("The rate must be above 0 to %(max)s."))
        raise RuleError(template, field=field, max=maximum)
    if value != value.quantize(Decimal("0.000001")):
        raise RuleError(gettext_noop("A rate has at most six decimal places."), field=field)
    return value


def check_terms(terms: Terms, *, amount: int) -> None:
    """Refuse review terms that cannot work for a loan of ``amount`` fen."""
    _rate(terms.borrower_rate, "borrower_rate", maximum=MAX_RATE)
    _rate(terms.investor_rate, "investor_rate", maximum=MAX_RATE)
    if terms.investor_rate > terms.borrower_rate:
        raise RuleError(gettext_noop("The investor rate must not be above the borrower rate."),
                        field="investor_rate")
    _rate(terms.service_fee_rate, "service_fee_rate", maximum=MAX_FEE_RATE, allow_zero=True)
    if type(terms.window_days) is not int or not 1 <= terms.window_days <= 30:
        raise RuleError(gettext_noop("The fundraising window is 1 to 30 days."), field="window_days")
    for name in ("min_investment", "increment", "per_investor_cap"):
        value = getattr(terms, name)
        if type(value) is not int or value <= 0:
            raise RuleError(gettext_noop("Enter a positive whole number of fen."), field=name)
    if terms.min_investment % terms.increment or amount % terms.increment:
        raise RuleError(gettext_noop("The minimum investment and the loan amount must be multiples of the increment."),
                        field="increment")
    if terms.min_investment > amount:
        raise RuleError(gettext_noop("The minimum investment is above the loan amount."), field="min_investment")
    if terms.per_investor_cap < terms.min_investment:
        raise RuleError(gettext_noop("The per-investor cap is below the minimum investment."),
                        field="per_investor_cap")


def service_fee(amount: int, fee_rate: Decimal) -> int:
    """The borrower's service fee, taken at disbursement: rounded half up to the fen."""
    return round_half_up(Decimal(amount) * fee_rate)


# -- bids -----------------------------------------------------------------------------------------


@dataclass(frozen=True)
class BidRules:
    amount: int  # the loan
    raised: int  # reserved so far
    min_investment: int
    increment: int
    per_investor_cap: int
    investor_live: int  # the investor's live tenders on this loan


def check_bid(bid: object, rules: BidRules) -> int:
    """The bid rules of issue 4 item 4; returns the bid."""
    if type(bid) is not int:
        raise RuleError(gettext_noop("The amount must be a whole number of fen."), field="amount")
    if bid <= 0:
        raise RuleError(gettext_noop("The amount must be positive."), field="amount")
    remaining = rules.amount - rules.raised
    if remaining <= 0:
        raise RuleError(gettext_noop("This loan is fully subscribed."), field="amount")
    # Too much first: "multiples of ¥100" would be no help to someone bidding ¥999,999,999.
    if bid > remaining:
        raise RuleError(gettext_noop("Only %(remaining)s remains."), field="amount", remaining=format_fen(remaining))
    if bid < rules.min_investment and bid != remaining:
        raise RuleError(gettext_noop("The minimum investment is %(min)s."), field="amount",
                        min=format_fen(rules.min_investment))
    if bid % rules.increment:
        raise RuleError(gettext_noop("Invest in multiples of %(step)s."), field="amount",
                        step=format_fen(rules.increment))
    left = remaining - bid
    if 0 < left < rules.min_investment:
        raise RuleError(gettext_noop("This would leave %(left)s, less than the minimum investment; invest "
                                     "%(remaining)s or leave at least %(min)s."), field="amount",
                        left=format_fen(left), remaining=format_fen(remaining), min=format_fen(rules.min_investment))
    if rules.investor_live + bid > rules.per_investor_cap:
        raise RuleError(gettext_noop("At most %(cap)s per investor in this loan; you have %(live)s."),
                        field="amount", cap=format_fen(rules.per_investor_cap), live=format_fen(rules.investor_live))
    return bid


def mask_name(name: str) -> str:
    """``"zhangsan"`` → ``"z***n"`` for the public tender list."""
    if len(name) <= 2:
        return name[:1] + "*"
    return f"{name[0]}***{name[-1]}"
