"""JSON API of the loan calculator (mounted by wanxin/api.py at /api/v1/calculator) and of
repayments and the investor portfolio (``plans_router``, at /api/v1/repayments).

Public, read-only and pure: the schedule comes from ``domain.schedule``; amounts are
integer fen in and out, the rate a decimal fraction as text (``0.12`` is 12%)."""

from __future__ import annotations

import datetime as dt

from ninja import Field, Router, Schema, Status

from wanxin.accounts.auth import customer_auth
from wanxin.core.errors import WanxinError

from . import domain, selectors, services
from .models import RepaymentPlan

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


# -- repayments and portfolio (mounted by wanxin/api.py at /api/v1/repayments) -----------------------

plans_router = Router(tags=["repayments"])


class PlanOut(Schema):
    id: int
    project_id: int
    project_no: str
    number: int
    due_date: dt.date
    principal: int
    interest: int
    penalty: int
    owed: int
    status: str
    in_progress: bool


class RepaymentOut(Schema):
    id: int
    kind: str
    status: str
    principal: int
    interest: int
    penalty: int
    fee: int
    total: int
    fail_reason: str


class MonthOut(Schema):
    month: str
    principal: int = Field(description="expected: principal of unpaid receivables due this month, fen")
    interest: int = Field(description="expected: their interest, fen")
    amount: int = Field(description="expected: principal + interest, fen")
    received: int = Field(description="received this month, fen")


class TenderOut(Schema):
    id: int
    project_id: int
    project_no: str
    amount: int
    status: str
    project_status: str


class PortfolioOut(Schema):
    invested: int
    received_principal: int
    received_interest: int
    expected_principal: int
    expected_interest: int
    xirr: str | None = Field(description="annualised, a decimal fraction (0.1 is 10%); null when undefined")
    calendar: list[MonthOut]
    tenders: list[TenderOut]


def _plan_out(plan) -> dict:
    return {"id": plan.pk, "project_id": plan.project_id, "project_no": plan.project.project_no,
            "number": plan.number, "due_date": plan.due_date, "principal": plan.principal, "interest": plan.interest,
            "penalty": plan.penalty, "owed": plan.owed, "status": plan.status,
            "in_progress": plan.repayment_id is not None and plan.status != "REPAID"}


def _repayment_out(repayment) -> dict:
    repayment.refresh_from_db()
    return {k: getattr(repayment, k) for k in ("kind", "status", "principal", "interest", "penalty", "fee", "total",
                                                "fail_reason")} | {"id": repayment.pk}


@plans_router.get("/plans", response=list[PlanOut], auth=customer_auth, summary="My repayment plans")
def my_plans(request):
    rows = RepaymentPlan.objects.filter(borrower=request.auth).select_related("project").order_by("project_id", "number")
    return [_plan_out(p) for p in rows[:500]]


@plans_router.post("/plans/{plan_id}/repay", response={201: RepaymentOut, 403: ErrorOut, 404: ErrorOut,
                                                       409: ErrorOut}, auth=customer_auth, summary="Repay a period")
def repay(request, plan_id: int):
    """Freeze the period's principal + interest + penalty at the bank, then pay the
    investors and the platform; ``409 in_progress`` while a repayment of it is at the bank."""
    return Status(201, _repayment_out(services.repay_start(borrower=request.auth, plan_id=plan_id)))


@plans_router.post("/projects/{project_id}/prepay", response={201: RepaymentOut, 403: ErrorOut, 404: ErrorOut,
                                                              409: ErrorOut}, auth=customer_auth,
                   summary="Prepay the whole outstanding principal")
def prepay(request, project_id: int):
    return Status(201, _repayment_out(services.prepay_start(borrower=request.auth, project_id=project_id)))


@plans_router.get("/portfolio", response=PortfolioOut, auth=customer_auth, summary="My investment portfolio")
def portfolio(request):
    p = selectors.portfolio(request.auth)
    return {"invested": p.invested, "received_principal": p.received_principal,
            "received_interest": p.received_interest, "expected_principal": p.expected_principal,
            "expected_interest": p.expected_interest, "xirr": None if p.xirr is None else str(p.xirr),
            "calendar": [{"month": m.month, "principal": m.principal, "interest": m.interest, "amount": m.amount,
                          "received": m.received} for m in p.calendar],
            "tenders": [{"id": t.pk, "project_id": t.project_id, "project_no": t.project.project_no,
                         "amount": t.amount, "status": t.status, "project_status": t.project.status}
                        for t in p.tenders]}
