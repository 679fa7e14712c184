"""Products, lines and fees: the sizing rules of an allocation (issue 12, "Rules, exact").

All amounts are integer fen, rates ``Decimal``; ``rhu`` (round half up to the fen,
``wanxin.core.money.round_half_up``) is applied only where a formula names it:

- ``allocated = deposit × multiple``; ``totalCapital = deposit + allocated``
- ``riskFund = rhu(allocated × riskFundRate)``
- ``warningLine = allocated + rhu(deposit × warningPct)``
- ``liquidationLine = allocated + rhu(deposit × liquidationPct)``
- ``fee = rhu(allocated × rate[multiple])`` per charge (a trading day or a month)
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal

from wanxin.core.money import MAX_AMOUNT_FEN, format_fen, round_half_up

from .errors import RuleError, gettext_noop

DAILY, MONTHLY = "DAILY", "MONTHLY"
PRODUCT_TYPES = (DAILY, MONTHLY)
RATE_PLACES = Decimal("0.000001")  # rates are stored with six decimal places
MAX_MULTIPLE = 20
MAX_DAILY_DURATION = 250  # trading days: about a year
MAX_MONTHLY_DURATION = 36  # months
MAX_FEE_RATE = Decimal("0.1")  # per charge: a safety bound, far above any real product


@dataclass(frozen=True)
class ProductTerms:
    """What a product allows. ``rates`` maps each allowed multiple to its fee rate per charge
    (per trading day for DAILY, per month for MONTHLY)."""

    type: str
    rates: Mapping[int, Decimal]
    durations: Sequence[int]
    deposit_min: int
    deposit_max: int
    risk_fund_rate: Decimal
    warning_pct: Decimal
    liquidation_pct: Decimal

    @property
    def multiples(self) -> list[int]:
        return sorted(self.rates)


@dataclass(frozen=True)
class Lines:
    """An allocation's capital and lines for a given deposit and allocated capital."""

    deposit: int
    allocated: int
    total_capital: int
    warning_line: int
    liquidation_line: int


def _check_rate(value: object, field: str, *, low: Decimal, high: Decimal, open_low: bool = True,
                open_high: bool = False) -> Decimal:
    if isinstance(value, bool) or not isinstance(value, Decimal) or not value.is_finite():
        raise RuleError(gettext_noop("Give a decimal such as 0.005."), field=field)
    below = value <= low if open_low else value < low
    above = value >= high if open_high else value > high
    if below or above:
        raise RuleError(gettext_noop("Must be between %(low)s and %(high)s."), field=field,
                        low=str(low), high=str(high))
    if value != value.quantize(RATE_PLACES):
        raise RuleError(gettext_noop("At most six decimal places."), field=field)
    return value


def check_product(terms: ProductTerms) -> ProductTerms:
    """Refuse a product that cannot work; ``0 < liquidationPct < warningPct < 1``."""
    if terms.type not in PRODUCT_TYPES:
        raise RuleError(gettext_noop("The type is DAILY or MONTHLY."), field="type")
    if not terms.rates:
        raise RuleError(gettext_noop("Allow at least one multiple."), field="multiples")
    for multiple, rate in terms.rates.items():
        if type(multiple) is not int or not 1 <= multiple <= MAX_MULTIPLE:
            raise RuleError(gettext_noop("A multiple is a whole number from 1 to %(max)s."), field="multiples",
                            max=MAX_MULTIPLE)
        _check_rate(rate, "rates", low=Decimal(0), high=MAX_FEE_RATE, open_low=False)
    longest = MAX_DAILY_DURATION if terms.type == DAILY else MAX_MONTHLY_DURATION
    if not terms.durations or any(type(d) is not int or not 1 <= d <= longest for d in terms.durations):
        raise RuleError(gettext_noop("A duration is a whole number from 1 to %(max)s."), field="durations",
                        max=longest)
    if len(set(terms.durations)) != len(terms.durations):
        raise RuleError(gettext_noop("Each duration once."), field="durations")
    for name in ("deposit_min", "deposit_max"):
        value = getattr(terms, name)
        if type(value) is not int or not 0 < value <= MAX_AMOUNT_FEN // (MAX_MULTIPLE + 1):
            raise RuleError(gettext_noop("Give a positive whole number of fen."), field=name)
    if terms.deposit_min > terms.deposit_max:
        raise RuleError(gettext_noop("The minimum deposit is above the maximum."), field="deposit_min")
    _check_rate(terms.risk_fund_rate, "risk_fund_rate", low=Decimal(0), high=Decimal(1), open_low=False)
    _check_rate(terms.warning_pct, "warning_pct", low=Decimal(0), high=Decimal(1), open_high=True)
    _check_rate(terms.liquidation_pct, "liquidation_pct", low=Decimal(0), high=Decimal(1), open_high=True)
    if terms.liquidation_pct >= terms.warning_pct:
        raise RuleError(gettext_noop("The liquidation line must be below the warning line."),
                        field="liquidation_pct")
    return terms


def check_choice(terms: ProductTerms, *, deposit: object, multiple: object, duration: object) -> None:
    """Refuse a deposit, multiple or duration the product does not allow."""
    if type(deposit) is not int:
        raise RuleError(gettext_noop("The deposit is a whole number of fen."), field="deposit")
    if not terms.deposit_min <= deposit <= terms.deposit_max:
        raise RuleError(gettext_noop("The deposit must be between %(low)s and %(high)s."), field="deposit",
                        low=format_fen(terms.deposit_min), high=format_fen(terms.deposit_max))
    if type(multiple) is not int or multiple not in terms.rates:
        raise RuleError(gettext_noop("Choose one of the multiples %(allowed)s."), field="multiple",
                        allowed=", ".join(map(str, terms.multiples)))
    if type(duration) is not int or duration not in terms.durations:
        raise RuleError(gettext_noop("Choose one of the durations %(allowed)s."), field="duration",
                        allowed=", ".join(map(str, sorted(terms.durations))))


def allocated_for(deposit: int, multiple: int) -> int:
    return deposit * multiple


def risk_fund(allocated: int, risk_fund_rate: Decimal) -> int:
    return round_half_up(Decimal(allocated) * risk_fund_rate)


def lines(*, deposit: int, allocated: int, warning_pct: Decimal, liquidation_pct: Decimal) -> Lines:
    """Capital and lines from the allocation's whole deposit (every top-up and increase
    included) and its whole allocated capital; recomputed whenever either changes."""
    return Lines(
        deposit=deposit,
        allocated=allocated,
        total_capital=deposit + allocated,
        warning_line=allocated + round_half_up(Decimal(deposit) * warning_pct),
        liquidation_line=allocated + round_half_up(Decimal(deposit) * liquidation_pct),
    )


def fee_per_charge(allocated: int, rate: Decimal) -> int:
    return round_half_up(Decimal(allocated) * rate)
