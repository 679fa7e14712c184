"""JSON API of allocation (mounted at /api/v1/allocation/). Amounts are integer fen,
rates decimal strings, dates ``YYYY-MM-DD``; a bad input is a 4xx whose ``code`` names
the field (``invalid_deposit``). Products, the calendar and quotes are public."""

from __future__ import annotations

import datetime as dt

from ninja import Field, Query, Router, Schema

from . import domain, selectors
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
