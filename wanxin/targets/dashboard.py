"""Target management's and statistics' tiles on the back-office dashboard."""

from __future__ import annotations

from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from wanxin.audit import tiles
from wanxin.repayments.models import DUE, OVERDUE, RepaymentPlan


@tiles.register("review_loans", label=_("Repayment periods due today"), url="/loans/review/targets/repayments",
                order=22)
def due_today() -> int:
    return RepaymentPlan.objects.filter(status__in=[DUE, OVERDUE], due_date=timezone.localdate()).count()
