"""The public disclosure (信息披露) from live data: aggregates only, no person's data.

Definitions (the page states them too):
- lending: loans disbursed (amount and count since the platform began);
- outstanding: unpaid principal of disbursed loans; lenders/borrowers: distinct investors of
  disbursed tenders and distinct borrowers of disbursed loans (all time, and those with money
  outstanding now);
- concentration: the largest and the ten largest borrowers' share of outstanding principal;
- overdue: unpaid principal + interest of periods past due beyond the grace days, and of those
  over 90 days (``positions``);
- compensation (代偿): money the platform paid investors in a borrower's place (fund records of
  type COMPENSATION); the platform does not guarantee loans, so it is 0 unless it ever did;
- related parties: loans whose borrower is an operator or staff account of the platform."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal

from django.db.models import Count, Q, Sum
from django.db.models.functions import TruncMonth
from django.utils import timezone

from wanxin.funds.models import FundRecord
from wanxin.lending import domain as lending_domain
from wanxin.lending.models import Project, Tender
from wanxin.repayments.models import DUE, OVERDUE, REPAID, ReceivablePlan, RepaymentPlan

from .positions import Position, positions, rate
from .selectors import TZ

MONTHS = 12
_RELATED = Q(borrower__is_operator=True) | Q(borrower__is_staff=True) | Q(borrower__is_superuser=True)


@dataclass(frozen=True)
class Month:
    month: str  # YYYY-MM
    lent: int
    lent_count: int
    repaid: int  # principal repaid in the month
    book: Position  # at the month's end (now, for the current month)


@dataclass(frozen=True)
class Disclosure:
    as_of: dt.datetime
    lent: int
    lent_count: int
    book: Position
    lenders: int
    lenders_now: int
    borrowers: int
    borrowers_now: int
    top1: int  # outstanding principal of the largest borrower
    top10: int
    compensation: int
    compensation_count: int
    related_count: int
    related_amount: int
    related_outstanding: int
    months: list[Month]

    @property
    def top1_share(self) -> Decimal:
        return rate(self.top1, self.book.outstanding)

    @property
    def top10_share(self) -> Decimal:
        return rate(self.top10, self.book.outstanding)


def _month_starts(today: dt.date, count: int) -> list[dt.date]:
    first = today.replace(day=1)
    starts = []
    for _ in range(count):
        starts.append(first)
        first = (first - dt.timedelta(days=1)).replace(day=1)
    return starts[::-1]


def _months(now: dt.datetime, today: dt.date) -> list[Month]:
    starts = _month_starts(today, MONTHS)
    ends = [*starts[1:], (starts[-1] + dt.timedelta(days=32)).replace(day=1)]
    points = [(min(dt.datetime.combine(end, dt.time.min, tzinfo=TZ), now), min(end - dt.timedelta(days=1), today))
              for end in ends]
    since = dt.datetime.combine(starts[0], dt.time.min, tzinfo=TZ)
    lent = {r["m"]: r for r in Project.objects.filter(loaned_at__gte=since).annotate(
        m=TruncMonth("loaned_at", tzinfo=TZ)).values("m").order_by().annotate(amount=Sum("amount"), n=Count("pk"))}
    repaid = {r["m"]: r["p"] for r in RepaymentPlan.objects.filter(status=REPAID, repaid_at__gte=since).annotate(
        m=TruncMonth("repaid_at", tzinfo=TZ)).values("m").order_by().annotate(p=Sum("principal"))}
    lent = {timezone.localtime(k, TZ).date() if isinstance(k, dt.datetime) else k: v for k, v in lent.items()}
    repaid = {timezone.localtime(k, TZ).date() if isinstance(k, dt.datetime) else k: v for k, v in repaid.items()}
    return [Month(f"{start:%Y-%m}", lent.get(start, {}).get("amount", 0), lent.get(start, {}).get("n", 0),
                  repaid.get(start, 0), book)
            for start, book in zip(starts, positions(points), strict=True)]


def disclosure() -> Disclosure:
    now, today = timezone.now(), timezone.localdate()
    loans = Project.objects.filter(loaned_at__isnull=False)
    lent = loans.aggregate(amount=Sum("amount", default=0), n=Count("pk"),
                           borrowers=Count("borrower", distinct=True))
    unpaid = RepaymentPlan.objects.filter(status__in=[DUE, OVERDUE])
    by_borrower = list(unpaid.values("borrower").order_by().annotate(s=Sum("principal"))
                       .order_by("-s", "borrower").values_list("s", flat=True)[:10])
    compensation = FundRecord.objects.filter(type="COMPENSATION").aggregate(s=Sum("amount", default=0), n=Count("pk"))
    related = loans.filter(_RELATED).aggregate(n=Count("pk"), amount=Sum("amount", default=0))
    related_outstanding = unpaid.filter(
        Q(project__borrower__is_operator=True) | Q(project__borrower__is_staff=True)
        | Q(project__borrower__is_superuser=True)).aggregate(s=Sum("principal", default=0))["s"]
    months = _months(now, today)
    return Disclosure(
        as_of=now, lent=lent["amount"], lent_count=lent["n"], book=months[-1].book,
        lenders=Tender.objects.filter(status=lending_domain.T_LOANED).aggregate(
            n=Count("investor", distinct=True))["n"],
        lenders_now=ReceivablePlan.objects.filter(status__in=[DUE, OVERDUE]).aggregate(
            n=Count("investor", distinct=True))["n"],
        borrowers=lent["borrowers"], borrowers_now=unpaid.aggregate(n=Count("borrower", distinct=True))["n"],
        top1=by_borrower[0] if by_borrower else 0, top10=sum(by_borrower),
        compensation=compensation["s"], compensation_count=compensation["n"],
        related_count=related["n"], related_amount=related["amount"], related_outstanding=related_outstanding,
        months=months)
