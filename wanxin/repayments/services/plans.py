"""The repayment and receivable plans of a loan, built when lending tells that its
disbursement was confirmed (``lending.signals.loan_disbursed``, subscribed in
``RepaymentsConfig.ready``)."""

from __future__ import annotations

import datetime as dt

from django.utils import timezone

from wanxin.lending import domain as lending_domain
from wanxin.lending.models import Project, Tender

from .. import domain
from ..models import ReceivablePlan, RepaymentPlan


def plans_generate(*, project: Project, start: dt.date | None = None) -> list[RepaymentPlan]:
    """The borrower's periods and every loaned tender's receivables, from ``domain.schedule``
    and ``domain.investor_receivables`` (DESIGN §4 exactness). Run in the
    transaction that makes the project REPAYING (``plans_on_loan_disbursed``); idempotent."""
    existing = list(RepaymentPlan.objects.filter(project=project))
    if existing:
        return existing
    start = start or timezone.localdate()
    periods = domain.schedule(project.amount, project.borrower_rate, project.months, project.method, start=start)
    tenders = list(Tender.objects.filter(project=project, status=lending_domain.T_LOANED).order_by("pk"))
    holdings = {t.pk: t.amount for t in tenders}
    parts = domain.investor_receivables(periods, holdings, project.investor_rate, project.borrower_rate)
    shares = domain.platform_shares(periods, parts)
    plans = RepaymentPlan.objects.bulk_create(
        RepaymentPlan(project=project, borrower_id=project.borrower_id, number=p.number, due_date=p.due,
                      principal=p.principal, interest=p.interest, platform_share=share)
        for p, share in zip(periods, shares, strict=True))
    by_tender = {t.pk: t for t in tenders}
    ReceivablePlan.objects.bulk_create(
        ReceivablePlan(plan=plans[i], tender_id=pk, investor_id=by_tender[pk].investor_id, number=part.number,
                       due_date=part.due, principal=part.principal, interest=part.interest)
        for pk, tender_parts in parts.items() for i, part in enumerate(tender_parts))
    return plans


def plans_on_loan_disbursed(sender, *, project: Project, **kwargs) -> None:
    """Receiver of ``lending.signals.loan_disbursed``: the plans, in the same transaction."""
    plans_generate(project=project)
