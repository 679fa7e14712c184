"""Allocation's tiles on the back-office dashboard: work waiting at the allocation desk."""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _

from wanxin.audit import tiles

from . import domain
from .models import Allocation, Request, Settlement


@tiles.register("review_allocations", "manage_risk_rules", label=_("Allocations in liquidation or below the warning line"),
                url="/allocation/desk/risk-board", order=30)
def at_risk() -> int:
    return Allocation.objects.filter(status__in=[domain.LIQUIDATION, domain.WARNING]).count()


@tiles.register("review_allocations", label=_("Allocations to review"), url="/allocation/desk/#review", order=31)
def to_review() -> int:
    return Allocation.objects.filter(status__in=[domain.DEPOSIT_PAID, domain.PAID]).count()


@tiles.register("review_allocations", label=_("Allocation requests and terminations"), url="/allocation/desk/#requests",
                order=32)
def requests_open() -> int:
    return (Request.objects.filter(status=domain.R_PENDING).count()
            + Allocation.objects.filter(status=domain.TERMINATION_REQUESTED).count())


@tiles.register("settle_allocation", label=_("Allocation settlements awaiting approval"),
                url="/allocation/desk/#settlements", order=33)
def settlements_proposed() -> int:
    return Settlement.objects.filter(status=Settlement.Status.PROPOSED).count()
