"""The public loan calculator page at /calculator: a form (yuan, percent, months, method),
the schedule from ``domain.schedule`` as a table with totals, and a chart of principal and
interest per period (ECharts, from JSON)."""

from __future__ import annotations

from urllib.parse import urlencode

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET

from wanxin.charts.data import Series, bar_chart
from wanxin.core.money import format_fen
from wanxin.lending.forms import error_list
from wanxin.lending.labels import method_label

from . import domain
from .forms import CalculatorForm

# What the page shows before the visitor types anything: the classic ¥10,000 at 12% over a year.
DEFAULTS = {"amount": "10000", "rate": "12", "months": "12", "method": domain.EQUAL_INSTALLMENT}
# The domain names its inputs as the API does; the form names them for people.
FORM_FIELD = {"amount": "amount", "annualRate": "rate", "months": "months", "method": "method", "start": "start"}

API_PATH = "/api/v1/calculator"


def _chart(periods: list[domain.Period]) -> dict:
    """Principal and interest per period, stacked (drawn by ECharts; the schedule table stays)."""
    return bar_chart([str(p.number) for p in periods], [
        Series(_("Principal"), [p.principal for p in periods], color="#c0392b", stack="payment"),
        Series(_("Interest"), [p.interest for p in periods], color="#e8a33d", stack="payment")])


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
            form.add_error(FORM_FIELD.get(exc.field), _(exc.message))
        else:
            totals = domain.totals(periods)
            query = {"amount": amount, "annualRate": str(rate), "months": months, "method": method}
            if form.cleaned_data["start"]:
                query["start"] = form.cleaned_data["start"].isoformat()
            result = {
                "method": method_label(method), "months": months, "amount": format_fen(amount),
                "periods": _rows(periods), "has_due": periods[0].due is not None,
                "first_payment": format_fen(periods[0].payment),
                "equal_payment": method == domain.EQUAL_INSTALLMENT and len(periods) > 1,
                "total_principal": format_fen(totals.principal), "total_interest": format_fen(totals.interest),
                "total_payment": format_fen(totals.payment), "chart": _chart(periods),
                "api_url": f"{API_PATH}?{urlencode(query)}",
            }
    # Each error once, named as the form labels its field (Django's validators can refuse one
    # value twice with the same words, e.g. both max_value and max_digits).
    return render(request, "repayments/calculator.html", {"form": form, "result": result,
                                                          "errors": error_list(form)})
