"""Life cycles (DESIGN §6): the one allowed-transitions table of an allocation and of its
requests, and what a recorded account status does to a running allocation."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal

from wanxin.core.money import MAX_AMOUNT_FEN

from .errors import IllegalTransition, RuleError, gettext_noop

APPLIED, DEPOSIT_PAID, PAID, APPROVED = "APPLIED", "DEPOSIT_PAID", "PAID", "APPROVED"
IN_PROGRESS, WARNING, LIQUIDATION = "IN_PROGRESS", "WARNING", "LIQUIDATION"
TERMINATION_REQUESTED, SETTLEMENT_PROPOSED, SETTLED = "TERMINATION_REQUESTED", "SETTLEMENT_PROPOSED", "SETTLED"
REJECTED, CANCELLED = "REJECTED", "CANCELLED"

STATUSES = (APPLIED, DEPOSIT_PAID, PAID, APPROVED, IN_PROGRESS, WARNING, LIQUIDATION,
            TERMINATION_REQUESTED, SETTLEMENT_PROPOSED, SETTLED, REJECTED, CANCELLED)
MOVES: dict[str, frozenset[str]] = {
    # Deposit and risk fund may be paid together (APPLIED → PAID) or the deposit alone first.
    APPLIED: frozenset({DEPOSIT_PAID, PAID, CANCELLED}),
    DEPOSIT_PAID: frozenset({PAID, REJECTED, CANCELLED}),
    PAID: frozenset({APPROVED, REJECTED, CANCELLED}),
    APPROVED: frozenset({IN_PROGRESS, CANCELLED}),
    IN_PROGRESS: frozenset({WARNING, LIQUIDATION, TERMINATION_REQUESTED}),
    WARNING: frozenset({IN_PROGRESS, LIQUIDATION, TERMINATION_REQUESTED}),
    # A liquidation does not recover by itself: operators confirm the forced close.
    LIQUIDATION: frozenset({TERMINATION_REQUESTED}),
    # A refused termination returns to the status the lines give.
    TERMINATION_REQUESTED: frozenset({SETTLEMENT_PROPOSED, IN_PROGRESS, WARNING, LIQUIDATION}),
    # The checker may send a proposal back to the maker.
    SETTLEMENT_PROPOSED: frozenset({SETTLED, TERMINATION_REQUESTED}),
    SETTLED: frozenset(),
    REJECTED: frozenset(),
    CANCELLED: frozenset(),
}
RUNNING = (IN_PROGRESS, WARNING, LIQUIDATION)  # trading: statuses are recorded, fees charged
# Not settled: their allocated capital counts against the platform's exposure.
COMMITTED = (PAID, APPROVED, IN_PROGRESS, WARNING, LIQUIDATION, TERMINATION_REQUESTED, SETTLEMENT_PROPOSED)

TOP_UP, INCREASE, PROFIT_WITHDRAWAL, EXTENSION, TERMINATION = (
    "TOP_UP", "INCREASE", "PROFIT_WITHDRAWAL", "EXTENSION", "TERMINATION")
REQUEST_KINDS = (TOP_UP, INCREASE, PROFIT_WITHDRAWAL, EXTENSION, TERMINATION)
R_PENDING, R_APPROVED, R_DONE, R_REJECTED, R_CANCELLED, R_FAILED = (
    "PENDING", "APPROVED", "DONE", "REJECTED", "CANCELLED", "FAILED")
REQUEST_STATUSES = (R_PENDING, R_APPROVED, R_DONE, R_REJECTED, R_CANCELLED, R_FAILED)
REQUEST_MOVES: dict[str, frozenset[str]] = {
    R_PENDING: frozenset({R_APPROVED, R_REJECTED, R_CANCELLED}),
    R_APPROVED: frozenset({R_DONE, R_FAILED}),  # approved: its bank request is on the way
    R_DONE: frozenset(),
    R_REJECTED: frozenset(),
    R_CANCELLED: frozenset(),
    R_FAILED: frozenset(),
}
OPEN_REQUEST_STATUSES = (R_PENDING, R_APPROVED)  # at most one of each kind per allocation


def check_move(table: dict[str, frozenset[str]], old: str, new: str) -> None:
    if new not in table.get(old, frozenset()):
        raise IllegalTransition(f"cannot go from {old} to {new}")


# -- lines ------------------------------------------------------------------------------------------


def line_status(total_assets: int, *, warning_line: int, liquidation_line: int) -> str:
    """At or below the liquidation line: LIQUIDATION; at or below the warning line: WARNING."""
    if total_assets <= liquidation_line:
        return LIQUIDATION
    if total_assets <= warning_line:
        return WARNING
    return IN_PROGRESS


def liquidation_distance(total_assets: int, *, liquidation_line: int, deposit: int) -> tuple[int, Decimal]:
    """How far the total assets are above the liquidation line: in fen, and as a percentage of
    the deposit (what the customer stands to lose), two places rounded half up. Negative: below."""
    distance = total_assets - liquidation_line
    return distance, (Decimal(distance) * 100 / Decimal(deposit)).quantize(Decimal("0.01"), ROUND_HALF_UP)


@dataclass(frozen=True)
class Assessment:
    status: str
    margin_call: bool  # send the SMS: the warning line was crossed from above
    liquidation: bool  # it has just entered liquidation: top of the operators' queue


def assess(current: str, total_assets: int, *, warning_line: int, liquidation_line: int) -> Assessment:
    """What the latest total assets do to a running allocation. The margin call goes once
    per crossing: only when it moves from IN_PROGRESS to below the warning line. A
    liquidation stays one until operators close it. After a top-up the caller passes the
    recorded total assets plus the top-ups since, as the top-up reaches the account."""
    if current not in RUNNING:
        raise IllegalTransition(f"{current} is not running")
    if current == LIQUIDATION:
        return Assessment(LIQUIDATION, margin_call=False, liquidation=False)
    new = line_status(total_assets, warning_line=warning_line, liquidation_line=liquidation_line)
    return Assessment(new, margin_call=current == IN_PROGRESS and new != IN_PROGRESS,
                      liquidation=new == LIQUIDATION)


# -- the daily account status an operator records ----------------------------------------------------


@dataclass(frozen=True)
class AccountStatus:
    day: dt.date
    total_assets: int
    market_value: int
    available_cash: int
    profit_loss: int


def check_account_status(status: AccountStatus, *, today: dt.date, started: dt.date | None = None) -> AccountStatus:
    """Refuse negative, absurd or future-dated figures (as a broker statement shows them)."""
    for name in ("total_assets", "market_value", "available_cash"):
        value = getattr(status, name)
        if type(value) is not int or not 0 <= value <= MAX_AMOUNT_FEN:
            raise RuleError(gettext_noop("Give a whole number of fen, not negative."), field=name)
    if type(status.profit_loss) is not int or abs(status.profit_loss) > MAX_AMOUNT_FEN:
        raise RuleError(gettext_noop("Give a whole number of fen."), field="profit_loss")
    if status.market_value > status.total_assets:
        raise RuleError(gettext_noop("The market value cannot be above the total assets."), field="market_value")
    if status.market_value + status.available_cash > status.total_assets:
        raise RuleError(gettext_noop("Market value plus available cash cannot be above the total assets."),
                        field="available_cash")
    if status.day > today:
        raise RuleError(gettext_noop("A status cannot be dated in the future."), field="day")
    if started is not None and status.day < started:
        raise RuleError(gettext_noop("A status cannot be dated before trading started."), field="day")
    return status
