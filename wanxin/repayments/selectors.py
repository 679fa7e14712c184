"""Reads of repayments: the borrower's plans, the investor's portfolio (tenders, receivable
calendar, received and expected returns, XIRR) and the overdue list by aging bucket."""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from dataclasses import dataclass
from decimal import Decimal

from django.db.models import QuerySet, Sum
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from wanxin.depository.models import DepositoryRequest
from wanxin.lending import domain as lending_domain
from wanxin.lending.models import Project, Tender

from . import domain
from .models import (
    CANCELLING,
    DUE,
    OVERDUE,
    RECEIVED,
    REPAID,
    ReceivablePlan,
    Repayment,
    RepaymentPlan,
)


def plans_of(project: Project) -> list[RepaymentPlan]:
    return list(RepaymentPlan.objects.filter(project=project).order_by("number"))


# How the borrower's page shows a period: only the first unpaid one can be paid (the rule of
# repay_start: earlier periods first); the later ones are upcoming (or overdue, still waiting).
PAID, AT_BANK, NEXT, NEXT_OVERDUE, LATER, LATER_OVERDUE = (
    "paid", "at_bank", "next", "next_overdue", "later", "later_overdue")
PLAN_STATE_LABELS = {PAID: _("Repaid"), AT_BANK: _("At the bank"), NEXT: _("Due"), NEXT_OVERDUE: _("Overdue"),
                     LATER: _("Upcoming"), LATER_OVERDUE: _("Overdue")}


@dataclass(frozen=True)
class PlanRow:
    plan: RepaymentPlan
    state: str

    @property
    def label(self) -> str:
        return PLAN_STATE_LABELS[self.state]

    @property
    def payable(self) -> bool:
        return self.state in (NEXT, NEXT_OVERDUE)


def plan_rows(plans: list[RepaymentPlan]) -> list[PlanRow]:
    """The periods in order with their state; at most one is payable (the next unpaid one,
    unless a repayment of it is already at the bank)."""
    rows, next_seen = [], False
    for plan in sorted(plans, key=lambda p: p.number):
        if plan.status == REPAID:
            state = PAID
        elif plan.repayment_id:
            state, next_seen = AT_BANK, True
        elif not next_seen:
            state, next_seen = (NEXT_OVERDUE if plan.status == OVERDUE else NEXT), True
        else:
            state = LATER_OVERDUE if plan.status == OVERDUE else LATER
        rows.append(PlanRow(plan, state))
    return rows


def plan_for_borrower(borrower, plan_id: int) -> RepaymentPlan | None:
    return RepaymentPlan.objects.select_related("project").filter(pk=plan_id, borrower_id=borrower.pk).first()


def borrower_projects(borrower) -> QuerySet[Project]:
    return (Project.objects.filter(borrower=borrower, status__in=[lending_domain.REPAYING, lending_domain.FINISHED])
            .order_by("-loaned_at", "-pk"))


@dataclass(frozen=True)
class MonthTotal:
    """One month of the receivable calendar (回款日历): what came back in it, and what is
    still expected in it (principal and interest of unpaid receivables due then)."""

    month: str  # YYYY-MM
    principal: int
    interest: int
    received: int = 0

    @property
    def amount(self) -> int:
        return self.principal + self.interest


@dataclass(frozen=True)
class Portfolio:
    tenders: list[Tender]
    invested: int  # principal of loaned tenders
    received_principal: int
    received_interest: int
    expected_principal: int
    expected_interest: int
    calendar: list[MonthTotal]
    xirr: Decimal | None

    @property
    def received(self) -> int:
        return self.received_principal + self.received_interest

    @property
    def expected(self) -> int:
        return self.expected_principal + self.expected_interest

    @property
    def xirr_percent(self) -> str:
        return "—" if self.xirr is None else f"{(self.xirr * 100).quantize(Decimal('0.01'))}%"


def portfolio(investor) -> Portfolio:
    """Every tender, what came back (received receivables: their received amount, principal
    first), what is still expected (unpaid receivables by month), and the annualised return of
    the whole portfolio: XIRR over the loaned amounts (out, on disbursement day), the receipts
    (in, on the day received) and the receivables still expected (in, on their due dates)."""
    tenders = list(Tender.objects.filter(investor=investor).select_related("project").order_by("-created_at", "-pk"))
    receivables = list(ReceivablePlan.objects.filter(investor=investor).order_by("due_date", "pk"))
    received_p = received_i = expected_p = expected_i = 0
    months: dict[str, list[int]] = defaultdict(lambda: [0, 0, 0])  # expected principal, interest; received
    flows: list[tuple[dt.date, int]] = []
    for t in tenders:
        if t.status == lending_domain.T_LOANED and t.project.loaned_at:
            flows.append((timezone.localdate(t.project.loaned_at), -t.amount))
    for r in receivables:
        if r.status == RECEIVED:
            received_p += min(r.principal, r.received_amount)
            received_i += r.received_amount - min(r.principal, r.received_amount)
            if r.received_amount:
                day = timezone.localdate(r.received_at)
                flows.append((day, r.received_amount))
                months[f"{day:%Y-%m}"][2] += r.received_amount
        else:
            expected_p += r.principal
            expected_i += r.interest
            month = months[f"{r.due_date:%Y-%m}"]
            month[0] += r.principal
            month[1] += r.interest
            flows.append((r.due_date, r.principal + r.interest))
    calendar = [MonthTotal(m, p, i, received) for m, (p, i, received) in sorted(months.items())]
    invested = sum(t.amount for t in tenders if t.status == lending_domain.T_LOANED)
    return Portfolio(tenders=tenders, invested=invested, received_principal=received_p, received_interest=received_i,
                     expected_principal=expected_p, expected_interest=expected_i, calendar=calendar,
                     xirr=domain.xirr(flows))


@dataclass(frozen=True)
class OverdueRow:
    plan: RepaymentPlan
    days: int
    bucket: str


def overdue(today: dt.date | None = None) -> dict[str, list[OverdueRow]]:
    """Overdue periods by aging bucket (``1-30`` … ``90+``), oldest first in each."""
    today = today or timezone.localdate()
    buckets: dict[str, list[OverdueRow]] = {b: [] for b in domain.AGING_BUCKETS}
    plans = (RepaymentPlan.objects.filter(status=OVERDUE).select_related("project", "borrower")
             .order_by("due_date", "pk"))
    for plan in plans:
        days = (today - plan.due_date).days
        bucket = domain.aging_bucket(days)
        if bucket:
            buckets[bucket].append(OverdueRow(plan, days, bucket))
    return buckets


def overdue_totals(buckets: dict[str, list[OverdueRow]]) -> dict[str, dict[str, int]]:
    return {b: {"count": len(rows), "owed": sum(r.plan.owed for r in rows)} for b, rows in buckets.items()}


def unpaid_total(project: Project) -> int:
    return (RepaymentPlan.objects.filter(project=project, status__in=[DUE, OVERDUE])
            .aggregate(s=Sum("principal"))["s"] or 0)


@dataclass(frozen=True)
class RefusedRelease:
    """Money still frozen at the bank because it refused to release it: a cancelled loan's
    tender or a failed repayment, with the bank's answer to the release."""

    kind: str  # "tender" or "repayment"
    id: int
    project: Project
    customer: str
    amount: int
    record: DepositoryRequest  # the refused CANCEL_PRE_TRANSACTION


def releases_refused() -> list[RefusedRelease]:
    """Every release the bank refused and nobody has retried yet, oldest refusal first."""
    refused = DepositoryRequest.objects.filter(service_name="CANCEL_PRE_TRANSACTION",
                                               status=DepositoryRequest.Status.FAIL)
    tenders = (Tender.objects.filter(status=lending_domain.T_FROZEN, cancel_request_no__in=refused.values("request_no"))
               .select_related("project", "investor"))
    repayments = (Repayment.objects.filter(status=CANCELLING, cancel_request_no__in=refused.values("request_no"))
                  .select_related("project", "borrower"))
    owners = [("tender", t.pk, t.project, t.investor.username, t.amount, t.cancel_request_no) for t in tenders]
    owners += [("repayment", r.pk, r.project, r.borrower.username, r.total, r.cancel_request_no) for r in repayments]
    records = {r.request_no: r for r in refused.filter(request_no__in=[o[-1] for o in owners])}
    rows = [RefusedRelease(kind, pk, project, customer, amount, records[no])
            for kind, pk, project, customer, amount, no in owners]
    return sorted(rows, key=lambda row: (row.record.finished_at or row.record.updated_at, row.kind, row.id))


def repaid_total() -> int:
    """Fen borrowers have repaid (principal, interest and penalties of the periods paid)."""
    return RepaymentPlan.objects.filter(status=REPAID).aggregate(t=Sum("paid_amount"))["t"] or 0


def overdue_rate() -> Decimal:
    """Unpaid principal of overdue periods ÷ unpaid principal of all periods (0 when nothing is
    outstanding), the amount-based overdue rate of Chinese P2P disclosure."""
    unpaid = RepaymentPlan.objects.filter(status__in=(DUE, OVERDUE))
    outstanding = unpaid.aggregate(t=Sum("principal"))["t"] or 0
    overdue = unpaid.filter(status=OVERDUE).aggregate(t=Sum("principal"))["t"] or 0
    return Decimal(overdue) / Decimal(outstanding) if outstanding else Decimal(0)
