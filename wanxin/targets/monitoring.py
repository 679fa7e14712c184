"""Repayment monitoring: periods due soon, due today, repaid lately and overdue, each with its
totals; and the overdue periods by aging bucket (M1 1–30 days, M2 31–60, M3 61–90, M3+ over
90: the buckets of ``repayments.domain.aging_bucket``), totals computed in SQL."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from django.db.models import Case, Count, F, QuerySet, Sum, Value, When
from django.utils.translation import gettext_lazy as _

from wanxin.repayments import domain as repayments_domain
from wanxin.repayments.models import DUE, OVERDUE, REPAID, RepaymentPlan

from .selectors import day_start

ROWS = 50  # rows shown per section; the totals cover all
# The industry's names for the aging buckets, in the order of repayments.domain.AGING_BUCKETS.
BUCKET_NAMES = dict(zip(repayments_domain.AGING_BUCKETS, ("M1", "M2", "M3", "M3+"), strict=True))
SECTION_LABELS = {"today": _("Due today"), "soon": _("Due soon"), "repaid": _("Repaid"), "overdue": _("Overdue")}


@dataclass(frozen=True)
class Section:
    code: str
    rows: list[RepaymentPlan]
    count: int
    principal: int
    owed: int  # principal + interest + penalty (for repaid: what was paid)

    @property
    def label(self) -> str:
        return str(SECTION_LABELS[self.code])


def _section(code: str, qs: QuerySet[RepaymentPlan], *, paid: bool = False) -> Section:
    owed = F("paid_amount") if paid else F("principal") + F("interest") + F("penalty")
    agg = qs.order_by().aggregate(n=Count("pk"), unpaid=Sum("principal", default=0), due=Sum(owed, default=0))
    rows = list(qs.select_related("project", "borrower")[:ROWS])
    return Section(code, rows, agg["n"], agg["unpaid"], agg["due"])


def sections(today: dt.date, days: int) -> list[Section]:
    """Due today; due in the next ``days`` days; repaid in the last ``days`` days; overdue."""
    plans = RepaymentPlan.objects
    unpaid = plans.filter(status__in=[DUE, OVERDUE])
    return [
        _section("today", unpaid.filter(due_date=today).order_by("pk")),
        _section("soon", plans.filter(status=DUE, due_date__gt=today, due_date__lte=today + dt.timedelta(days=days))
                 .order_by("due_date", "pk")),
        _section("repaid", plans.filter(status=REPAID, repaid_at__gte=day_start(today - dt.timedelta(days=days - 1)))
                 .order_by("-repaid_at", "-pk"), paid=True),
        _section("overdue", plans.filter(status=OVERDUE).order_by("due_date", "pk")),
    ]


def aging(today: dt.date) -> list[dict]:
    """Per bucket: periods, loans, unpaid principal and owed (with penalty); and a total row.
    One GROUP BY over the overdue periods (days overdue = today − due date)."""
    bounds = [(30, "1-30"), (60, "31-60"), (90, "61-90")]
    bucket = Case(*[When(due_date__gte=today - dt.timedelta(days=limit), then=Value(name)) for limit, name in bounds],
                  default=Value("90+"))
    rows = (RepaymentPlan.objects.filter(status=OVERDUE, due_date__lt=today).annotate(bucket=bucket)
            .values("bucket").order_by()
            .annotate(n_periods=Count("pk"), n_loans=Count("project", distinct=True), unpaid=Sum("principal"),
                      owed_total=Sum(F("principal") + F("interest") + F("penalty"))))
    found = {r["bucket"]: r for r in rows}
    out = []
    for code in repayments_domain.AGING_BUCKETS:
        r = found.get(code, {})
        out.append({"code": code, "name": BUCKET_NAMES[code], "periods": r.get("n_periods", 0),
                    "loans": r.get("n_loans", 0), "principal": r.get("unpaid") or 0, "owed": r.get("owed_total") or 0})
    total = (RepaymentPlan.objects.filter(status=OVERDUE, due_date__lt=today)
             .aggregate(loans=Count("project", distinct=True)))
    out.append({"code": "", "name": _("Total"), "periods": sum(b["periods"] for b in out),
                "loans": total["loans"], "principal": sum(b["principal"] for b in out),
                "owed": sum(b["owed"] for b in out)})
    return out
