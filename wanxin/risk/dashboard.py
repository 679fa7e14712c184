"""Risk's tile on the back-office dashboard: checks blocked in the last 24 hours."""

from __future__ import annotations

import datetime as dt

from django.utils import timezone

from wanxin.audit import tiles

from . import domain
from .models import RuleCheck


@tiles.register("manage_risk_rules", label="Actions blocked by risk rules (24 h)",
                url=f"/backoffice/risk/checks/?outcome={domain.BLOCK}", order=30)
def blocked_today() -> int:
    return RuleCheck.objects.filter(outcome=domain.BLOCK, at__gte=timezone.now() - dt.timedelta(days=1)).count()
