"""The operators' platform statistics (/backoffice/statistics/, view_fund_statistics) with
their CSV, and the public disclosure page (/disclosure, no login)."""

from __future__ import annotations

from django.conf import settings
from django.core.cache import cache
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET

from wanxin.audit.guards import require_operator_permission
from wanxin.charts.data import Series, bar_chart
from wanxin.lending.forms import error_list

from . import disclosure as disclosure_selectors
from . import exports, figures, selectors
from .forms import RangeForm

PERMISSION = "backoffice.view_fund_statistics"
COLOURS = {"recharged": "#1e7e34", "withdrawn": "#b02a37", "invested": "#3b82f6", "disbursed": "#f59e0b",
           "repaid": "#6f42c1"}


def _form(request: HttpRequest) -> RangeForm:
    return RangeForm(request.GET)


@never_cache
@require_GET
@require_operator_permission(PERMISSION)
def platform(request: HttpRequest) -> HttpResponse:
    form = _form(request)
    r = form.date_range()
    if r is None:
        return render(request, "statistics/platform.html", {"form": form, "errors": error_list(form)}, status=400)
    stats = figures.gather(r)
    money = selectors.DAILY_FIELDS[1:]
    daily_chart = bar_chart([f"{row['day']:%m-%d}" for row in stats.daily], [
        Series(str(selectors.DAILY_LABELS[f]), [row[f] for row in stats.daily], color=COLOURS[f]) for f in money])
    income_chart = bar_chart([str(selectors.INCOME_LABELS[k]) for k in stats.income],
                             [Series(_("Platform income"), list(stats.income.values()), color="#1e7e34")])
    return render(request, "statistics/platform.html", {
        "form": form, "stats": stats, "rows": stats.rows(), "daily_chart": daily_chart, "income_chart": income_chart,
        "daily_labels": [selectors.DAILY_LABELS[f] for f in selectors.DAILY_FIELDS], "query": request.GET.urlencode(),
        "income_rows": [(selectors.INCOME_LABELS[k], v) for k, v in stats.income.items()],
    })


@never_cache
@require_GET
@require_operator_permission(PERMISSION)
def platform_csv(request: HttpRequest) -> HttpResponse:
    form = _form(request)
    r = form.date_range()
    if r is None:
        return HttpResponse("\n".join(error_list(form)), status=400, content_type="text/plain; charset=utf-8")
    stats = figures.gather(r)
    return exports.csv_response(r, stats.rows(), stats.daily)


@require_GET
def disclosure(request: HttpRequest) -> HttpResponse:
    seconds = settings.DISCLOSURE_CACHE_SECONDS
    d = (cache.get_or_set("statistics:disclosure", disclosure_selectors.disclosure, seconds) if seconds
         else disclosure_selectors.disclosure())
    chart = bar_chart([m.month for m in d.months], [
        Series(_("Lent in the month"), [m.lent for m in d.months], color="#3b82f6"),
        Series(_("Outstanding at the month's end"), [m.book.outstanding for m in d.months], color="#f59e0b",
               kind="line"),
        Series(_("Overdue at the month's end"), [m.book.overdue_amount for m in d.months], color="#b02a37",
               kind="line")])
    return render(request, "statistics/disclosure.html", {"d": d, "chart": chart})
