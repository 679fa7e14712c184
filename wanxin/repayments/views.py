"""The public loan calculator page at /calculator: a form (yuan, percent, months, method),
the schedule from ``domain.schedule`` as a table with totals, and an inline SVG bar chart of
principal and interest per period."""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import urlencode

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_GET

from wanxin.core.money import format_fen

from . import domain
from .forms import CalculatorForm

# What the page shows before the visitor types anything: the classic ¥10,000 at 12% over a year.
DEFAULTS = {"amount": "10000", "rate": "12", "months": "12", "method": domain.EQUAL_INSTALLMENT}
# The domain names its inputs as the API does; the form names them for people.
FORM_FIELD = {"amount": "amount", "annualRate": "rate", "months": "months", "method": "method", "start": "start"}

API_PATH = "/api/v1/calculator"
CHART_HEIGHT = 200
CHART_SLOT = 10  # viewBox units per period; the SVG stretches to the page width
CHART_MIN_SLOTS = 12


@dataclass(frozen=True)
class Bar:
    period: domain.Period
    x: int
    width: int
    principal_y: int
    principal_height: int
    interest_y: int
    interest_height: int


def _chart(periods: list[domain.Period]) -> dict:
    """Stacked bars (principal below, interest above) in whole viewBox units, scaled to the
    largest payment. Integer arithmetic only."""
    peak = max(p.payment for p in periods) or 1
    bars = []
    for index, p in enumerate(periods):
        principal_h = p.principal * CHART_HEIGHT // peak
        interest_h = p.interest * CHART_HEIGHT // peak
        bars.append(Bar(period=p, x=index * CHART_SLOT + 1, width=CHART_SLOT - 2,
                        principal_y=CHART_HEIGHT - principal_h, principal_height=principal_h,
                        interest_y=CHART_HEIGHT - principal_h - interest_h, interest_height=interest_h))
    return {"width": max(len(periods), CHART_MIN_SLOTS) * CHART_SLOT, "height": CHART_HEIGHT, "bars": bars,
            "peak": format_fen(peak)}


def _rows(periods: list[domain.Period]) -> list[dict]:
    return [{"number": p.number, "due": p.due, "principal": format_fen(p.principal),
             "interest": format_fen(p.interest), "payment": format_fen(p.payment),
             "remaining": format_fen(p.remaining)} for p in periods]


@require_GET
def calculator(request: HttpRequest) -> HttpResponse:
    form = CalculatorForm(request.GET if request.GET else DEFAULTS)
    result = None
    if form.is_valid():
        amount, rate, months, method = form.schedule_input()
        try:
            periods = domain.schedule(amount, rate, months, method, start=form.cleaned_data["start"])
        except domain.ScheduleError as exc:
            form.add_error(FORM_FIELD.get(exc.field), exc.message)
        else:
            totals = domain.totals(periods)
            en, zh = domain.METHODS[method]
            query = {"amount": amount, "annualRate": str(rate), "months": months, "method": method}
            if form.cleaned_data["start"]:
                query["start"] = form.cleaned_data["start"].isoformat()
            result = {
                "method": f"{zh} {en}", "months": months, "amount": format_fen(amount),
                "periods": _rows(periods), "has_due": periods[0].due is not None,
                "first_payment": format_fen(periods[0].payment),
                "equal_payment": method == domain.EQUAL_INSTALLMENT and len(periods) > 1,
                "total_principal": format_fen(totals.principal), "total_interest": format_fen(totals.interest),
                "total_payment": format_fen(totals.payment), "chart": _chart(periods),
                "api_url": f"{API_PATH}?{urlencode(query)}",
            }
    return render(request, "repayments/calculator.html", {"form": form, "result": result})
