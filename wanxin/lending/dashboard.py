"""Lending's tiles on the back-office dashboard: loans waiting for an operator."""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _

from wanxin.audit import tiles

from . import domain
from .models import Disbursement, Project


@tiles.register("review_loans", label=_("Loan applications awaiting review"),
                url=f"/loans/review/?status={domain.PENDING_REVIEW}", order=10)
def awaiting_review() -> int:
    return Project.objects.filter(status=domain.PENDING_REVIEW).count()


@tiles.register("review_loans", label=_("Full loans to propose for disbursement"),
                url=f"/loans/review/?status={domain.FULL}", order=11)
def full_unproposed() -> int:
    active = [Disbursement.Status.PROPOSED, Disbursement.Status.SENT, Disbursement.Status.DONE]
    return Project.objects.filter(status=domain.FULL).exclude(disbursements__status__in=active).count()


@tiles.register("approve_disbursement", label=_("Disbursements awaiting approval"), url="/loans/review/disbursements/",
                order=12)
def disbursements_proposed() -> int:
    return Disbursement.objects.filter(status=Disbursement.Status.PROPOSED).count()
