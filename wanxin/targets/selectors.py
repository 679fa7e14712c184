"""Reads of target (标的) management: every loan project by filters and work queue, for the
list, its pages and its CSV export. Each is one query; counts by status in one GROUP BY."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from dataclasses import dataclass
from zoneinfo import ZoneInfo

from django.conf import settings
from django.db.models import Count, Exists, OuterRef, Q, QuerySet, Sum
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from wanxin.lending import domain
from wanxin.lending.models import Disbursement, Project

# The work queues of the list, each a filter of the projects (the actions stay on the review
# pages of wanxin.lending, which each row links to).
REVIEW, PUBLISH, CANCEL, FULL_REVIEW = "review", "publish", "cancel", "full"
QUEUE_LABELS = {
    REVIEW: _("Awaiting review"),
    PUBLISH: _("Approved, awaiting the bank to publish"),
    CANCEL: _("Window closed unfilled, to cancel"),
    FULL_REVIEW: _("Full, awaiting full review"),
}
_LIVE_DISBURSEMENT = [Disbursement.Status.PROPOSED, Disbursement.Status.SENT, Disbursement.Status.DONE]


def _queue_q(queue: str) -> Q:
    if queue == REVIEW:
        return Q(status=domain.PENDING_REVIEW, create_request_no="")
    if queue == PUBLISH:
        return Q(status=domain.PENDING_REVIEW) & ~Q(create_request_no="")
    if queue == CANCEL:
        return Q(status=domain.COLLECTING, collect_until__lte=timezone.now())
    if queue == FULL_REVIEW:
        live = Disbursement.objects.filter(project=OuterRef("pk"), status__in=_LIVE_DISBURSEMENT)
        return Q(status=domain.FULL) & ~Q(Exists(live))
    return Q()


@dataclass(frozen=True)
class TargetFilter:
    q: str = ""
    status: str = ""
    queue: str = ""
    date_from: dt.date | None = None  # applied (created) on or after, Beijing days
    date_to: dt.date | None = None
    amount_min: int | None = None  # fen
    amount_max: int | None = None
    borrower: str = ""


def day_start(day: dt.date) -> dt.datetime:
    return dt.datetime.combine(day, dt.time.min, tzinfo=ZoneInfo(settings.TIME_ZONE))


def targets(f: TargetFilter) -> QuerySet[Project]:
    """Projects matching every filter given, newest first."""
    qs = Project.objects.select_related("borrower")
    if f.status:
        qs = qs.filter(status=f.status)
    if f.queue:
        qs = qs.filter(_queue_q(f.queue))
    if f.date_from:
        qs = qs.filter(created_at__gte=day_start(f.date_from))
    if f.date_to:
        qs = qs.filter(created_at__lt=day_start(f.date_to + dt.timedelta(days=1)))
    if f.amount_min is not None:
        qs = qs.filter(amount__gte=f.amount_min)
    if f.amount_max is not None:
        qs = qs.filter(amount__lte=f.amount_max)
    if f.borrower:
        qs = qs.filter(Q(borrower__username__iexact=f.borrower) | Q(borrower__user_no__iexact=f.borrower))
    for word in f.q.split():
        qs = qs.filter(Q(project_no__icontains=word) | Q(name__icontains=word))
    return qs.order_by("-created_at", "-pk")


def status_counts() -> dict[str, int]:
    rows = Project.objects.values("status").annotate(n=Count("pk"))
    counts = {s: 0 for s in domain.PROJECT_STATUSES}
    counts.update({r["status"]: r["n"] for r in rows})
    return counts


def queue_counts() -> dict[str, int]:
    """Each queue's size, in one query."""
    return Project.objects.aggregate(**{code: Count("pk", filter=_queue_q(code)) for code in QUEUE_LABELS})


def totals(qs: QuerySet[Project]) -> dict[str, int]:
    return qs.order_by().aggregate(count=Count("pk"), amount=Sum("amount", default=0),
                                   raised=Sum("raised", default=0))


CSV_FIELDS = ("project_no", "name", "borrower__username", "amount", "months", "method", "status",
              "borrower_rate", "investor_rate", "raised", "created_at", "reviewed_at", "published_at", "full_at",
              "loaned_at", "miscarried_at")


def export_rows(f: TargetFilter) -> Iterator[tuple]:
    """The filtered projects as value tuples (``CSV_FIELDS``), streamed from the database."""
    return targets(f).values_list(*CSV_FIELDS).iterator(chunk_size=2000)
