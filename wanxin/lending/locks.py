"""Row locks of lending, taken in the one global order (docs/decisions/0003): loan project →
disbursement proposal → tenders → (repayment plans, allocations) → depository request →
customer accounts (``funds.locks``), each kind by primary key. A path that needs several
kinds takes them through these helpers, top to bottom; it never locks an earlier kind after
a later one."""

from __future__ import annotations

from .models import Disbursement, Project, Tender


def project_lock(project_id: int) -> Project | None:
    return Project.objects.select_for_update().filter(pk=project_id).first()


def projects_lock(project_ids) -> dict[int, Project]:
    """Several loans at once, locked in primary-key order (a BATCH's repayment answers)."""
    return {p.pk: p for p in Project.objects.select_for_update().filter(pk__in=project_ids).order_by("pk")}


def proposal_lock(disbursement_id: int) -> Disbursement | None:
    return Disbursement.objects.select_for_update().filter(pk=disbursement_id).first()


def project_and_proposal_lock(disbursement_id: int) -> tuple[Project | None, Disbursement | None]:
    """A disbursement and its loan, the loan first (read the link unlocked: it never changes)."""
    project_id = Disbursement.objects.filter(pk=disbursement_id).values_list("project_id", flat=True).first()
    if project_id is None:
        return None, None
    project = project_lock(project_id)
    return project, proposal_lock(disbursement_id)


def tender_lock(tender_id: int) -> Tender | None:
    return Tender.objects.select_for_update().filter(pk=tender_id).first()


def tenders_lock(**filters) -> list[Tender]:
    """Tenders matching ``filters``, locked in primary-key order."""
    return list(Tender.objects.select_for_update().filter(**filters).order_by("pk"))
