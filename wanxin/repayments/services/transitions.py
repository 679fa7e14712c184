"""What the repayment writes share: the settings they read, and the moves of a repayment
and of a period through their allowed-transitions tables."""

from __future__ import annotations

import logging
from decimal import Decimal

from django.conf import settings
from django.utils.translation import gettext as _

from wanxin.core.errors import Conflict

from ..models import DUE, OVERDUE, PLAN_MOVES, REPAYMENT_MOVES, Repayment, RepaymentPlan

log = logging.getLogger("wanxin.repayments")
UNPAID = (DUE, OVERDUE)


def grace_days() -> int:
    return int(settings.REPAYMENT_GRACE_DAYS)


def penalty_daily_rate() -> Decimal:
    return Decimal(str(settings.REPAYMENT_PENALTY_DAILY_RATE))


def prepayment_fee_rate() -> Decimal:
    return Decimal(str(settings.REPAYMENT_PREPAYMENT_FEE_RATE))


def repayment_move(repayment: Repayment, new: str, **fields) -> None:
    if new not in REPAYMENT_MOVES[repayment.status]:
        raise Conflict(_("A repayment cannot go from %(old)s to %(new)s.") % {"old": repayment.status, "new": new},
                       code="bad_status")
    updated = Repayment.objects.filter(pk=repayment.pk, status=repayment.status).update(status=new, **fields)
    if updated != 1:  # pragma: no cover - callers hold the repayment's row lock
        raise Conflict(_("The repayment changed meanwhile."), code="changed")
    repayment.status = new


def plan_move_check(old: str, new: str) -> None:
    if new not in PLAN_MOVES[old]:
        raise Conflict(_("A repayment period cannot go from %(old)s to %(new)s.") % {"old": old, "new": new},
                       code="bad_status")


def repayment_release(repayment: Repayment) -> None:
    RepaymentPlan.objects.filter(repayment=repayment, status__in=UNPAID).update(repayment=None)
