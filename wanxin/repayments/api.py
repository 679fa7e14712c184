"""JSON API of the loan calculator (mounted by wanxin/api.py at /api/v1/calculator).

Public, read-only and pure: the schedule comes from ``domain.schedule``; amounts are
integer fen in and out, the rate a decimal fraction as text (``0.12`` is 12%)."""

from __future__ import annotations

import datetime as dt

from ninja import Field, Router, Schema

from wanxin.core.errors import WanxinError

from . import domain

router = Router(tags=["calculator"])


class ErrorOut(Schema):
    code: str
    message: str


class PeriodOut(Schema):
    period: int
    due: dt.date | None = Field(description="only with ?start=")
    principal: int
    interest: int
    payment: int
    remaining: int = Field(description="principal outstanding after this period")


class TotalsOut(Schema):
    principal: int
    interest: int
    payment: int


class CalculatorOut(Schema):
    amount: int
    annualRate: str
    months: int
    method: str
    periods: list[PeriodOut]
    totals: TotalsOut


@router.get("", response={200: CalculatorOut, 400: ErrorOut}, summary="Loan calculator")
def calculator(request, amount: str | None = None, annualRate: str | None = None,
               months: str | None = None, method: str | None = None, start: str | None = None):
    """The whole repayment schedule of a loan of ``amount`` fen at ``annualRate`` (a decimal
    fraction, at most 0.36) over ``months`` (1-360) months, repaid by ``method``
    (``EQUAL_INSTALLMENT`` 等额本息, ``EQUAL_PRINCIPAL`` 等额本金, ``INTEREST_FIRST`` 先息后本,
    ``BULLET`` 一次性还本付息), with totals. Give ``start`` (``YYYY-MM-DD``) for due dates."""
    try:
        parsed_amount = domain.parse_amount(amount)
        rate = domain.parse_annual_rate(annualRate)
        term = domain.parse_months(months)
        chosen = domain.parse_method(method)
        periods = domain.schedule(parsed_amount, rate, term, chosen, start=domain.parse_start(start))
    except domain.ScheduleError as exc:
        raise WanxinError(exc.message, code=f"invalid_{exc.field}" if exc.field else "invalid") from exc
    totals = domain.totals(periods)
    return {
        "amount": parsed_amount, "annualRate": str(rate), "months": term, "method": chosen,
        "periods": [{"period": p.number, "due": p.due, "principal": p.principal, "interest": p.interest,
                     "payment": p.payment, "remaining": p.remaining} for p in periods],
        "totals": {"principal": totals.principal, "interest": totals.interest, "payment": totals.payment},
    }
