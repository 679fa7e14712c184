"""Reconciliation's tile on the back-office dashboard: differences nobody has handled yet."""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _

from wanxin.audit import tiles

from .models import Difference


@tiles.register("run_reconciliation", label=_("Open reconciliation differences"), url="/backoffice/reconciliation/",
                order=30)
def open_differences() -> int:
    return Difference.objects.filter(status=Difference.Status.OPEN).count()
