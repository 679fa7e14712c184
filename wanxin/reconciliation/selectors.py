"""Reads of reconciliation: the days with their counts, a day's summary and differences."""

from __future__ import annotations

from dataclasses import dataclass

from django.db.models import Count, Q

from .models import Difference, ReconciliationDay


def days(limit: int = 90) -> list[ReconciliationDay]:
    """The latest days, newest first, each with ``found`` and ``still_open`` counts."""
    return list(ReconciliationDay.objects.annotate(
        found=Count("differences"), still_open=Count("differences", filter=Q(differences__status="OPEN")),
    ).order_by("-date")[:limit])


def chart_series(rows: list[ReconciliationDay]) -> dict:
    """Differences over time, oldest first, for the chart hook (rendered as json_script)."""
    ordered = sorted(rows, key=lambda d: d.date)
    return {"dates": [d.date.isoformat() for d in ordered], "found": [d.found for d in ordered],
            "open": [d.still_open for d in ordered]}


def day_of(date) -> ReconciliationDay | None:
    return ReconciliationDay.objects.filter(date=date).first()


@dataclass(frozen=True)
class DaySummary:
    by_kind: list[tuple[str, str, int]]  # (kind, label, count)
    by_status: list[tuple[str, str, int]]
    total: int
    open: int


def day_summary(recon: ReconciliationDay) -> DaySummary:
    kinds = dict(recon.differences.values_list("kind").annotate(n=Count("id")))
    statuses = dict(recon.differences.values_list("status").annotate(n=Count("id")))
    return DaySummary(
        by_kind=[(k.value, k.label, kinds.get(k.value, 0)) for k in Difference.Kind],
        by_status=[(s.value, s.label, statuses.get(s.value, 0)) for s in Difference.Status],
        total=sum(kinds.values()), open=statuses.get(Difference.Status.OPEN, 0),
    )


def differences_of(recon: ReconciliationDay, *, kind: str = "", status: str = "", limit: int = 500) -> list[Difference]:
    qs = recon.differences.select_related("handled_by")
    if kind in Difference.Kind.values:
        qs = qs.filter(kind=kind)
    if status in Difference.Status.values:
        qs = qs.filter(status=status)
    return list(qs.order_by("status", "kind", "request_no", "account")[:limit])
