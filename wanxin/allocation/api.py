"""JSON API of allocation (mounted at /api/v1/allocation/). Amounts are integer fen,
rates decimal strings, dates ``YYYY-MM-DD``; a bad input is a 4xx whose ``code`` names
the field (``invalid_deposit``). Products, the calendar and quotes are public; a
customer's own allocations need their session or bearer token, and another customer's
allocation is "not found"."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.http import HttpResponse
from ninja import Field, Query, Router, Schema, Status

from wanxin.accounts.auth import customer_auth

from . import domain, selectors, services
from .errors import invalid

router = Router(tags=["allocation"])


class ErrorOut(Schema):
    code: str
    message: str


class ProductOut(Schema):
    id: int
    name: str
    type: str = Field(description="DAILY (fee per trading day) or MONTHLY (fee per month)")
    multiples: list[int]
    rates: dict[str, str] = Field(description='fee rate per charge by multiple, e.g. {"3": "0.015000"}')
    durations: list[int] = Field(description="trading days (DAILY) or months (MONTHLY)")
    depositMin: int
    depositMax: int
    riskFundRate: str
    warningPct: str
    liquidationPct: str


class CalendarOut(Schema):
    tradingDays: list[dt.date]


class ChargeOut(Schema):
    date: dt.date
    amount: int


class QuoteOut(Schema):
    start: dt.date
    allocated: int
    totalCapital: int
    riskFund: int
    warningLine: int
    liquidationLine: int
    fees: list[ChargeOut]
    feeTotal: int
    payNow: int
    end: dt.date


def _parsed(parse, text, field: str):
    try:
        return parse(text, field)
    except domain.RuleError as exc:
        raise invalid(exc) from exc


@router.get("/products", response=list[ProductOut], summary="Allocation products on sale")
def products(request):
    out = []
    for product in selectors.products_on_sale():
        terms = product.terms()
        out.append({
            "id": product.pk, "name": product.name, "type": product.type, "multiples": terms.multiples,
            "rates": {str(m): str(terms.rates[m]) for m in terms.multiples}, "durations": sorted(terms.durations),
            "depositMin": product.deposit_min, "depositMax": product.deposit_max,
            "riskFundRate": str(product.risk_fund_rate), "warningPct": str(product.warning_pct),
            "liquidationPct": str(product.liquidation_pct),
        })
    return out


@router.get("/calendar", response={200: CalendarOut, 400: ErrorOut}, summary="Trading days")
def calendar(request, from_: str | None = Query(None, alias="from"), to: str | None = None):
    """Trading days (weekdays minus configured holidays) from ``from`` (today when omitted)
    to ``to`` (30 days later when omitted), both included, at most two years."""
    first = _parsed(domain.parse_date, from_, "from")
    last = _parsed(domain.parse_date, to, "to")
    return {"tradingDays": selectors.trading_days(first, last)}


@router.get("/quote", response={200: QuoteOut, 400: ErrorOut, 404: ErrorOut}, summary="Quote an allocation")
def quote(request, productId: str | None = None, deposit: str | None = None, multiple: str | None = None,
          duration: str | None = None, start: str | None = None):
    """Everything before confirming: ``deposit`` in fen, a ``multiple`` and ``duration`` the
    product allows, and an optional ``start`` (the answer's start is the first trading day
    on or after it, today when omitted). ``fees`` lists every charge of the whole duration,
    the first paid now: ``payNow = deposit + riskFund + fees[0].amount``."""
    product_id = _parsed(domain.parse_whole, productId, "productId")
    amount = _parsed(domain.parse_whole, deposit, "deposit")
    chosen_multiple = _parsed(domain.parse_whole, multiple, "multiple")
    chosen_duration = _parsed(domain.parse_whole, duration, "duration")
    first = _parsed(domain.parse_date, start, "start")
    product = selectors.product_on_sale(product_id)
    q = selectors.quote(product=product, deposit=amount, multiple=chosen_multiple, duration=chosen_duration,
                        start=first)
    return {
        "start": q.start, "allocated": q.allocated, "totalCapital": q.total_capital, "riskFund": q.risk_fund,
        "warningLine": q.warning_line, "liquidationLine": q.liquidation_line,
        "fees": [{"date": c.date, "amount": c.amount} for c in q.fees], "feeTotal": q.fee_total,
        "payNow": q.pay_now, "end": q.end,
    }


# -- the customer's allocations (a customer's bearer token or session) -----------------------------------


class ApplicationIn(Schema):
    productId: Any
    deposit: Any = Field(description="integer fen")
    multiple: Any
    duration: Any
    payRiskFund: bool = Field(True, description="false: pay the deposit only and make up the risk fund later")


class AllocationOut(Schema):
    id: int
    allocationNo: str
    status: str
    statusLabel: str
    productId: int
    type: str
    multiple: int
    duration: int
    deposit: int
    allocated: int
    totalCapital: int
    riskFund: int
    riskFundDue: int = Field(description="what is still to be made up of the risk fund")
    depositFrozen: int
    riskFundFrozen: int
    fee: int = Field(description="per charge")
    feesPaid: int
    arrears: int
    debt: int
    profitWithdrawn: int
    warningLine: int
    liquidationLine: int
    latestTotalAssets: int | None
    startDate: dt.date | None
    endDate: dt.date | None
    autoRenew: bool = Field(description="MONTHLY: renewed by a month at its end while the balance covers the fee")
    createdAt: dt.datetime


class RecordOut(Schema):
    kind: str
    kindLabel: str
    amount: int
    statusFrom: str
    statusTo: str
    note: str
    createdAt: dt.datetime


class AllocationDetailOut(AllocationOut):
    records: list[RecordOut] = Field(description="fund dynamics: every money event and status change")


def _out(a) -> dict:
    return {
        "id": a.pk, "allocationNo": a.allocation_no, "status": a.status, "statusLabel": a.status_label(),
        "productId": a.product_id, "type": a.product_type, "multiple": a.multiple, "duration": a.duration,
        "deposit": a.deposit, "allocated": a.allocated, "totalCapital": a.total_capital, "riskFund": a.risk_fund,
        "riskFundDue": a.risk_fund_due, "depositFrozen": a.deposit_frozen, "riskFundFrozen": a.risk_fund_frozen,
        "fee": a.fee, "feesPaid": a.fees_paid, "arrears": a.arrears, "debt": a.debt,
        "profitWithdrawn": a.profit_withdrawn, "warningLine": a.warning_line, "liquidationLine": a.liquidation_line,
        "latestTotalAssets": a.latest_total_assets, "startDate": a.start_date, "endDate": a.end_date,
        "autoRenew": a.auto_renew, "createdAt": a.created_at,
    }


def _detail(a) -> dict:
    return {**_out(a), "records": [
        {"kind": r.kind, "kindLabel": str(r.get_kind_display()), "amount": r.amount, "statusFrom": r.status_from,
         "statusTo": r.status_to, "note": r.note, "createdAt": r.created_at} for r in selectors.fund_dynamics(a)]}


@router.post("/allocations", response={201: AllocationDetailOut, 400: ErrorOut, 403: ErrorOut, 404: ErrorOut,
                                       409: ErrorOut}, auth=customer_auth, summary="Apply and pay")
def apply(request, body: ApplicationIn):
    """Apply for an allocation and pay: the deposit is frozen at the bank, the first fee
    charged and (unless ``payRiskFund`` is false) the risk fund frozen. An
    ``Idempotency-Key`` header makes a resend return the first allocation."""
    allocation = services.allocation_apply(customer=request.auth, data=services.ApplicationInput(
        product_id=body.productId, deposit=body.deposit, multiple=body.multiple, duration=body.duration,
        pay_risk_fund=body.payRiskFund, token=request.headers.get("Idempotency-Key", "").strip()))
    return Status(201, _detail(selectors.allocation_of(request.auth, allocation.pk)))


@router.get("/allocations", response=list[AllocationOut], auth=customer_auth, summary="My allocations")
def mine(request):
    return [_out(a) for a in selectors.allocations_of(request.auth)[:200]]


@router.get("/allocations/{allocation_id}", response={200: AllocationDetailOut, 404: ErrorOut}, auth=customer_auth)
def detail(request, allocation_id: int):
    return _detail(selectors.allocation_of(request.auth, allocation_id))


@router.post("/allocations/{allocation_id}/risk-fund", response={202: AllocationDetailOut, 403: ErrorOut,
                                                                 404: ErrorOut, 409: ErrorOut}, auth=customer_auth,
             summary="Make up the risk fund")
def risk_fund(request, allocation_id: int):
    services.risk_fund_make_up(customer=request.auth, allocation_id=allocation_id)
    return Status(202, _detail(selectors.allocation_of(request.auth, allocation_id)))


class TerminationIn(Schema):
    reason: str


class RevealIn(Schema):
    password: str = Field(description="the customer's login password")


class SubAccountOut(Schema):
    accountId: str
    password: str
    system: str


@router.post("/allocations/{allocation_id}/termination", response={202: AllocationDetailOut, 400: ErrorOut,
                                                                   403: ErrorOut, 404: ErrorOut, 409: ErrorOut},
             auth=customer_auth, summary="Apply to terminate")
def terminate(request, allocation_id: int, body: TerminationIn):
    services.termination_apply(customer=request.auth, allocation_id=allocation_id, reason=body.reason)
    return Status(202, _detail(selectors.allocation_of(request.auth, allocation_id)))


class AutoRenewIn(Schema):
    on: bool


@router.post("/allocations/{allocation_id}/auto-renew", response={200: AllocationDetailOut, 400: ErrorOut,
                                                                  403: ErrorOut, 404: ErrorOut, 409: ErrorOut},
             auth=customer_auth, summary="Turn automatic renewal of a monthly allocation on or off")
def auto_renew(request, allocation_id: int, body: AutoRenewIn):
    services.auto_renew_set(customer=request.auth, allocation_id=allocation_id, on=body.on)
    return _detail(selectors.allocation_of(request.auth, allocation_id))


@router.post("/allocations/{allocation_id}/sub-account", response={200: SubAccountOut, 403: ErrorOut, 404: ErrorOut,
                                                                  409: ErrorOut}, auth=customer_auth,
             summary="Reveal the trading sub-account")
def sub_account(request, allocation_id: int, body: RevealIn, response: HttpResponse):
    """The trading sub-account and its password, after the customer re-enters their login
    password (never stored or cached: the answer says ``no-store``)."""
    account = services.sub_account_reveal(customer=request.auth, allocation_id=allocation_id, password=body.password)
    response["Cache-Control"] = "private, no-store"
    return {"accountId": account.account_id, "password": account.password, "system": account.broker}


class RequestIn(Schema):
    kind: str = Field(description="TOP_UP (margin top-up), INCREASE (more deposit at the same multiple), "
                                  "PROFIT_WITHDRAWAL or EXTENSION (monthly only)")
    amount: Any = Field(None, description="integer fen (TOP_UP, INCREASE, PROFIT_WITHDRAWAL)")
    months: Any = Field(None, description="whole months (EXTENSION)")


class RequestOut(Schema):
    id: int
    kind: str
    kindLabel: str
    status: str
    statusLabel: str
    amount: int | None
    createdAt: dt.datetime


@router.post("/allocations/{allocation_id}/requests", response={201: RequestOut, 400: ErrorOut, 403: ErrorOut,
                                                               404: ErrorOut, 409: ErrorOut}, auth=customer_auth,
             summary="Ask for a margin top-up, a profit withdrawal or an extension")
def request_create(request, allocation_id: int, body: RequestIn):
    """An operator reviews it; a top-up is then frozen at the bank, a withdrawal paid from
    PLATFORM_CAPITAL. One open request of each kind at a time."""
    if body.kind == domain.EXTENSION:
        created = services.extension_apply(customer=request.auth, allocation_id=allocation_id, months=body.months)
    else:
        created = services.request_apply(customer=request.auth, allocation_id=allocation_id, kind=body.kind,
                                         amount=body.amount)
    return Status(201, {"id": created.pk, "kind": created.kind, "kindLabel": str(created.get_kind_display()),
                        "status": created.status, "statusLabel": str(created.get_status_display()),
                        "amount": created.amount, "createdAt": created.created_at})
