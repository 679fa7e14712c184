"""Repayments' tiles on the back-office dashboard: overdue periods and refused releases."""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _

from wanxin.audit import tiles

from . import selectors
from .models import OVERDUE, RepaymentPlan


@tiles.register("review_loans", "manage_risk_rules", label=_("Overdue periods"), url="/loans/review/overdue", order=20)
def overdue_periods() -> int:
    return RepaymentPlan.objects.filter(status=OVERDUE).count()


@tiles.register("approve_disbursement", label=_("Releases the bank refused"), url="/loans/review/releases", order=21)
def releases_refused() -> int:
    return len(selectors.releases_refused())
