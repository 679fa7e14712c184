"""Finance officers' pages: the days (with differences over time), one day's summary and
differences with their handling, closing. Rules live in ``services``."""

from __future__ import annotations

import datetime as dt

from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from wanxin.audit.guards import require_operator_permission
from wanxin.core.errors import WanxinError

from . import levels, selectors, services
from .models import Difference

RUN = "backoffice.run_reconciliation"
CLOSE = "backoffice.close_reconciliation_day"


def _date(value: str) -> dt.date:
    try:
        return dt.date.fromisoformat(value)
    except ValueError as exc:
        raise Http404(_("Not a date.")) from exc


def _days_page(request: HttpRequest, *, status: int = 200, error: str = "", date_value: str = "") -> HttpResponse:
    rows = selectors.days()
    return render(request, "reconciliation/days.html", {
        "days": rows, "chart": selectors.chart_series(rows), "error": error, "date_value": date_value,
    }, status=status)


@require_GET
@require_operator_permission(RUN)
def days(request: HttpRequest) -> HttpResponse:
    return _days_page(request)


@require_POST
@require_operator_permission(RUN)
def run(request: HttpRequest) -> HttpResponse:
    raw = request.POST.get("date", "").strip()
    try:
        day = dt.date.fromisoformat(raw)
    except ValueError:
        return _days_page(request, status=400, error=_("Give the business day as YYYY-MM-DD."), date_value=raw)
    try:
        services.day_reconcile(day=day, actor=request.user)
    except WanxinError as exc:
        return _days_page(request, status=exc.status if exc.status < 500 else 502, error=exc.message, date_value=raw)
    messages.success(request, _("%(day)s reconciled.") % {"day": day.isoformat()})
    return redirect("reconciliation:day", date=day.isoformat())


def _day_page(request: HttpRequest, date: str, *, status: int = 200, error: str = "") -> HttpResponse:
    recon = selectors.day_of(_date(date))
    if recon is None:
        raise Http404(_("This day has not been reconciled."))
    kind, state = request.GET.get("kind", ""), request.GET.get("status", "")
    return render(request, "reconciliation/day.html", {
        "recon": recon, "summary": selectors.day_summary(recon), "levels": levels.LEVELS,
        "differences": selectors.differences_of(recon, kind=kind, status=state),
        "kinds": Difference.Kind.choices, "statuses": Difference.Status.choices, "kind": kind, "state": state,
        "error": error, "can_close": request.user.has_perm(CLOSE),
    }, status=status)


@require_GET
@require_operator_permission(RUN)
def day(request: HttpRequest, date: str) -> HttpResponse:
    return _day_page(request, date)


@require_POST
@require_operator_permission(RUN, CLOSE)
def close(request: HttpRequest, date: str) -> HttpResponse:
    try:
        services.day_close(actor=request.user, day=_date(date))
    except WanxinError as exc:
        return _day_page(request, date, status=exc.status, error=exc.message)
    messages.success(request, _("%(day)s closed.") % {"day": date})
    return redirect("reconciliation:day", date=date)


def _difference_day(difference_id: int) -> str:
    difference = Difference.objects.select_related("day").filter(pk=difference_id).first()
    if difference is None:
        raise Http404(_("There is no such difference."))
    return difference.day.date.isoformat()


@require_POST
@require_operator_permission(RUN)
def requery(request: HttpRequest, difference_id: int) -> HttpResponse:
    date = _difference_day(difference_id)
    try:
        difference = services.difference_requery(actor=request.user, difference_id=difference_id)
    except WanxinError as exc:
        return _day_page(request, date, status=exc.status if exc.status < 500 else 502, error=exc.message)
    if difference.status == Difference.Status.RESOLVED:
        messages.success(request, _("Resolved: %(answer)s") % {"answer": difference.bank_answer})
    else:
        messages.warning(request, _("Still open: %(answer)s") % {"answer": difference.bank_answer})
    return redirect("reconciliation:day", date=date)


@require_POST
@require_operator_permission(RUN)
def explain(request: HttpRequest, difference_id: int) -> HttpResponse:
    date = _difference_day(difference_id)
    try:
        services.difference_explain(actor=request.user, difference_id=difference_id,
                                    comment=request.POST.get("comment", ""))
    except WanxinError as exc:
        return _day_page(request, date, status=exc.status, error=exc.message)
    messages.success(request, _("Marked explained."))
    return redirect("reconciliation:day", date=date)
