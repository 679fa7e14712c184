"""Target (标的) management under /loans/review/targets/ for loan reviewers (review_loans):
the list with filters, search, pages and CSV; a project's timeline; repayment monitoring.
Actions (approve, reject, cancel, propose) stay on the review pages of wanxin.lending."""

from __future__ import annotations

from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET

from wanxin.audit.guards import require_operator_permission
from wanxin.lending import domain
from wanxin.lending.forms import error_list
from wanxin.lending.labels import status_label
from wanxin.lending.models import Project

from . import exports, monitoring, selectors, timeline
from .forms import TargetFilterForm

PERMISSION = "backoffice.review_loans"
PAGE_SIZE = 25
WINDOW_DAYS, WINDOW_MAX = 7, 90


def _form(request: HttpRequest) -> TargetFilterForm:
    return TargetFilterForm(request.GET if any(k != "page" for k in request.GET) else None)


@never_cache
@require_GET
@require_operator_permission(PERMISSION)
def targets(request: HttpRequest) -> HttpResponse:
    form = _form(request)
    errors = error_list(form) if form.is_bound and not form.is_valid() else []
    qs = selectors.targets(form.filters())
    page = Paginator(qs, PAGE_SIZE).get_page(request.GET.get("page")) if not errors else None
    query = request.GET.copy()
    query.pop("page", None)
    counts, queued = selectors.status_counts(), selectors.queue_counts()
    return render(request, "targets/list.html", {
        "form": form, "errors": errors, "page": page, "query": query.urlencode(),
        "totals": selectors.totals(qs) if not errors else None,
        "statuses": [(s, status_label(s), counts[s]) for s in domain.PROJECT_STATUSES],
        "queues": [(code, label, queued[code]) for code, label in selectors.QUEUE_LABELS.items()],
    }, status=400 if errors else 200)


@never_cache
@require_GET
@require_operator_permission(PERMISSION)
def targets_csv(request: HttpRequest) -> HttpResponse:
    form = _form(request)
    if form.is_bound and not form.is_valid():
        return HttpResponse("\n".join(error_list(form)), status=400, content_type="text/plain; charset=utf-8")
    return exports.csv_response(form.filters())


@never_cache
@require_GET
@require_operator_permission(PERMISSION)
def target(request: HttpRequest, project_id: int) -> HttpResponse:
    project = (Project.objects.select_related("borrower", "reviewed_by", "application")
               .filter(pk=project_id).first())
    if project is None:
        raise Http404(_("No such loan."))
    return render(request, "targets/detail.html", {"project": project, "events": timeline.timeline(project)})


@never_cache
@require_GET
@require_operator_permission(PERMISSION)
def repayments(request: HttpRequest) -> HttpResponse:
    raw = request.GET.get("days", "") or str(WINDOW_DAYS)
    if not raw.isdigit() or not 1 <= int(raw) <= WINDOW_MAX:
        return render(request, "targets/monitoring.html", {
            "errors": [_("The window must be a whole number of days from 1 to %(max)s.") % {"max": WINDOW_MAX}],
            "days": WINDOW_DAYS}, status=400)
    today, days = timezone.localdate(), int(raw)
    return render(request, "targets/monitoring.html", {
        "days": days, "today": today, "sections": monitoring.sections(today, days), "aging": monitoring.aging(today)})
