"""Row locks of repayments, taken in the one global order (docs/decisions/0003): loan
project (``lending.locks``) → repayment → its repayment plans → depository request →
customer accounts (``funds``), each kind by primary key."""

from __future__ import annotations

from wanxin.lending.locks import project_lock, projects_lock
from wanxin.lending.models import Project

from .models import DUE, OVERDUE, Repayment, RepaymentPlan


def repayment_lock(repayment_id: int) -> Repayment | None:
    return Repayment.objects.select_for_update().filter(pk=repayment_id).first()


def project_and_repayment_lock(repayment_id: int) -> tuple[Project | None, Repayment | None]:
    """A repayment and its loan, the loan first (the link is read unlocked: it never changes)."""
    project_id = Repayment.objects.filter(pk=repayment_id).values_list("project_id", flat=True).first()
    if project_id is None:
        return None, None
    project = project_lock(project_id)
    return project, repayment_lock(repayment_id)


def plans_lock(**filters) -> list[RepaymentPlan]:
    """Repayment plans matching ``filters``, locked in primary-key order."""
    return list(RepaymentPlan.objects.select_for_update().filter(**filters).order_by("pk"))


def plan_lock(plan_id: int) -> RepaymentPlan:
    return RepaymentPlan.objects.select_for_update().get(pk=plan_id)


def repayments_lock(repayment_ids) -> dict[int, Repayment]:
    """Repayments by primary key, locked in that order (a BATCH's answers)."""
    return {r.pk: r for r in Repayment.objects.select_for_update().filter(pk__in=repayment_ids).order_by("pk")}


def projects_and_repayments_lock(repayment_ids) -> tuple[dict[int, Project], dict[int, Repayment]]:
    """Repayments and their loans, every loan first (by pk), then every repayment (by pk)."""
    project_ids = set(Repayment.objects.filter(pk__in=repayment_ids).values_list("project_id", flat=True))
    return projects_lock(project_ids), repayments_lock(repayment_ids)


def plans_claim_lock(plan_ids) -> list[RepaymentPlan]:
    """The periods among ``plan_ids`` still unpaid and unclaimed, locked in primary-key order;
    a period another transaction holds is left out (``SKIP LOCKED``: another run is starting it)."""
    return list(RepaymentPlan.objects.select_for_update(skip_locked=True)
                .filter(pk__in=plan_ids, repayment__isnull=True, status__in=(DUE, OVERDUE)).order_by("pk"))
