"""Platform statistics over a date range (Beijing days, both ends included): flows within the
range, the loan book at its end, and daily volumes. Every figure is an aggregate computed by
PostgreSQL (one GROUP BY per source); Python only fills the days that had nothing."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from zoneinfo import ZoneInfo

from django.conf import settings
from django.db import connection
from django.db.models import Count, F, Q, Sum
from django.db.models.functions import TruncDate
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from wanxin.accounts.models import User
from wanxin.allocation import domain as allocation_domain
from wanxin.allocation.models import Allocation
from wanxin.funds.models import DepositoryAccount, FundRecord
from wanxin.lending import domain as lending_domain
from wanxin.lending.models import Project, Tender
from wanxin.repayments.models import DONE, REPAID, Repayment, RepaymentPlan

from .positions import Position, position

TZ = ZoneInfo(settings.TIME_ZONE)
MAX_SPAN_DAYS = 366


@dataclass(frozen=True)
class DateRange:
    date_from: dt.date
    date_to: dt.date

    @property
    def start(self) -> dt.datetime:
        return dt.datetime.combine(self.date_from, dt.time.min, tzinfo=TZ)

    @property
    def end(self) -> dt.datetime:
        """The instant the range ends: the next day's start, or now for a range ending today."""
        end = dt.datetime.combine(self.date_to + dt.timedelta(days=1), dt.time.min, tzinfo=TZ)
        return min(end, timezone.now())

    @property
    def days(self) -> list[dt.date]:
        return [self.date_from + dt.timedelta(days=i) for i in range((self.date_to - self.date_from).days + 1)]


def customers_q() -> Q:
    return Q(is_operator=False, is_staff=False, is_superuser=False)


@dataclass(frozen=True)
class Customers:
    registered: int  # by the end of the range
    registered_in_range: int
    accounts_open: int
    accounts_opened_in_range: int


def customers(r: DateRange) -> Customers:
    users = User.objects.filter(customers_q(), date_joined__lt=r.end).aggregate(
        total=Count("pk"), new=Count("pk", filter=Q(date_joined__gte=r.start)))
    # An account open with no opening time (opened before the platform recorded it) counts as open.
    accounts = DepositoryAccount.objects.filter(Q(opened_at__lt=r.end) | Q(opened_at__isnull=True),
                                                status=DepositoryAccount.Status.OPEN).aggregate(
        total=Count("pk"), new=Count("pk", filter=Q(opened_at__gte=r.start)))
    return Customers(users["total"], users["new"], accounts["total"], accounts["new"])


@dataclass(frozen=True)
class Lending:
    raised: int  # principal disbursed within the range
    raised_count: int
    raised_total: int  # principal disbursed by the end of the range
    repaid_principal: int  # principal of the periods repaid within the range
    repaid_total: int


def lending(r: DateRange) -> Lending:
    loans = Project.objects.filter(loaned_at__lt=r.end).aggregate(
        total=Sum("amount", default=0), new=Sum("amount", filter=Q(loaned_at__gte=r.start), default=0),
        count=Count("pk", filter=Q(loaned_at__gte=r.start)))
    repaid = RepaymentPlan.objects.filter(status=REPAID, repaid_at__lt=r.end).aggregate(
        total=Sum("principal", default=0), new=Sum("principal", filter=Q(repaid_at__gte=r.start), default=0))
    return Lending(loans["new"], loans["count"], loans["total"], repaid["new"], repaid["total"])


def book(r: DateRange) -> Position:
    """Outstanding and overdue at the end of the range."""
    return position(r.end, r.date_to)


# Platform income by kind: what the platform's income account received, from the records of
# the money that paid it (customers' fund records; repayments, whose commission is interest
# margin + penalty + prepayment fee, and whose investors' details may carry a management fee).
INCOME_LABELS = {
    "loan_fee": _("Loan service fees"),
    "interest_margin": _("Interest margin"),
    "penalty": _("Penalty interest"),
    "prepayment_fee": _("Prepayment fees"),
    "interest_commission": _("Interest management fees"),
    "withdrawal_fee": _("Withdrawal commissions"),
    "allocation_fee": _("Allocation fees"),
}
_RECORD_INCOME = {"LOAN_COMMISSION": "loan_fee", "COMMISSION": "withdrawal_fee", "ALLOCATION_FEE": "allocation_fee",
                  "INTEREST_COMMISSION": "interest_commission"}
_DETAIL_COMMISSION = f"""
SELECT COALESCE(SUM((d->>'commission')::bigint), 0)
FROM {Repayment._meta.db_table} r CROSS JOIN LATERAL jsonb_array_elements(r.details) d
WHERE r.status = %s AND r.finished_at >= %s AND r.finished_at < %s
"""  # noqa: S608  (our table name; values are parameters)


def income(r: DateRange) -> dict[str, int]:
    """Fen per kind (``INCOME_LABELS`` order) received within the range."""
    out = dict.fromkeys(INCOME_LABELS, 0)
    rows = (FundRecord.objects.filter(type__in=_RECORD_INCOME, created_at__gte=r.start, created_at__lt=r.end)
            .values("type").order_by().annotate(total=Sum("amount")))
    for row in rows:  # one row per kind: debits of the customers are the platform's income
        out[_RECORD_INCOME[row["type"]]] += -row["total"]
    paid = Repayment.objects.filter(status=DONE, finished_at__gte=r.start, finished_at__lt=r.end).aggregate(
        margin=Sum(F("commission") - F("penalty") - F("fee"), default=0), penalty=Sum("penalty", default=0),
        fee=Sum("fee", default=0))
    out["interest_margin"], out["penalty"], out["prepayment_fee"] = paid["margin"], paid["penalty"], paid["fee"]
    with connection.cursor() as cursor:
        cursor.execute(_DETAIL_COMMISSION, [DONE, r.start, r.end])
        out["interest_commission"] += cursor.fetchone()[0]
    return out


@dataclass(frozen=True)
class Exposure:
    running: int  # allocations trading now
    allocated: int  # the platform's capital lent to them (fen)
    deposits: int
    risk_funds: int
    in_warning: int  # at or beyond the warning line
    in_liquidation: int


def exposure() -> Exposure:
    """Stock allocations running now (allocation keeps no history of its exposure)."""
    a = Allocation.objects.filter(status__in=allocation_domain.RUNNING).aggregate(
        running=Count("pk"), allocated=Sum("allocated", default=0), deposits=Sum("deposit", default=0),
        risk=Sum("risk_fund", default=0), warning=Count("pk", filter=Q(status=allocation_domain.WARNING)),
        liquidation=Count("pk", filter=Q(status=allocation_domain.LIQUIDATION)))
    return Exposure(a["running"], a["allocated"], a["deposits"], a["risk"], a["warning"], a["liquidation"])


DAILY_FIELDS = ("registered", "recharged", "withdrawn", "invested", "disbursed", "repaid")
DAILY_LABELS = {"registered": _("New customers"), "recharged": _("Recharged"), "withdrawn": _("Withdrawn"),
                "invested": _("Invested"), "disbursed": _("Disbursed"), "repaid": _("Repaid")}


def _by_day(qs, time_field: str, value) -> dict[dt.date, int]:
    rows = (qs.filter(**{f"{time_field}__isnull": False}).annotate(day=TruncDate(time_field, tzinfo=TZ))
            .values("day").order_by().annotate(v=value))
    return {row["day"]: row["v"] or 0 for row in rows}


def daily(r: DateRange) -> list[dict]:
    """One row per day of the range: new customers (count) and money volumes (fen)."""
    def within(field: str) -> dict:
        return {f"{field}__gte": r.start, f"{field}__lt": r.end}

    records = FundRecord.objects.filter(**within("created_at"))
    series = {
        "registered": _by_day(User.objects.filter(customers_q(), **within("date_joined")), "date_joined", Count("pk")),
        "recharged": _by_day(records.filter(type="RECHARGE"), "created_at", Sum("amount")),
        "withdrawn": _by_day(records.filter(type="WITHDRAW"), "created_at", Sum("amount") * -1),
        "invested": _by_day(Tender.objects.filter(**within("created_at")).exclude(status=lending_domain.T_FAILED),
                            "created_at", Sum("amount")),
        "disbursed": _by_day(Project.objects.filter(**within("loaned_at")), "loaned_at", Sum("amount")),
        "repaid": _by_day(Repayment.objects.filter(status=DONE, **within("finished_at")), "finished_at",
                          Sum("total")),
    }
    return [{"day": day, **{name: series[name].get(day, 0) for name in DAILY_FIELDS}} for day in r.days]
