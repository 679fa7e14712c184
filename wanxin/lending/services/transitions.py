"""The moves every lending write shares: a project or tender through its allowed-transitions
table (``domain``), the refusal of a rule, and telling the bank a project's new status."""

from __future__ import annotations

from django.utils.translation import gettext as _

from wanxin.core.errors import Conflict, NotFound, WanxinError
from wanxin.depository import services as depository
from wanxin.depository.models import DepositoryRequest

from .. import domain, locks
from ..models import Project, Tender


class Invalid(WanxinError):
    """A refusal about one input; ``code`` names the field."""


def rule_invalid(exc: domain.RuleError) -> Invalid:
    """The refusal a person sees for a broken rule of ``domain``, in the reader's language
    (its template is in the catalogue)."""
    return Invalid(_(exc.template) % exc.params if exc.params else _(exc.template), code=exc.field or "invalid")


def project_locked(project_id: int) -> Project:
    """The project under its row lock (the first lock of the global order), or 404."""
    project = locks.project_lock(project_id)
    if project is None:
        raise NotFound(_("No such loan."), code="not_found")
    return project


def project_move(project: Project, new: str, **fields) -> None:
    """Move ``project`` (read under its row lock, or with a conditional UPDATE here) to
    ``new`` through the one allowed-transitions table; anything else raises."""
    try:
        domain.check_move(domain.PROJECT_MOVES, project.status, new)
    except domain.IllegalTransition as exc:
        raise Conflict(_("The loan is %(status)s: this cannot be done now.") % {"status": project.get_status_display()},
                       code="bad_status") from exc
    updated = Project.objects.filter(pk=project.pk, status=project.status).update(status=new, **fields)
    if updated != 1:
        raise Conflict(_("The loan changed meanwhile; reload and try again."), code="changed")
    project.status = new
    for key, value in fields.items():
        setattr(project, key, value)


def tender_move(tender: Tender, new: str, **fields) -> None:
    """Move a tender (read under its row lock) through its allowed-transitions table."""
    domain.check_move(domain.TENDER_MOVES, tender.status, new)
    updated = Tender.objects.filter(pk=tender.pk, status=tender.status).update(status=new, **fields)
    if updated != 1:  # pragma: no cover - callers hold the tender's row lock
        raise Conflict(_("The tender changed meanwhile."), code="changed")
    tender.status = new


def project_status_report(project: Project, status: str) -> DepositoryRequest:
    """Tell the bank the project's new status (MODIFY_PROJECT), sent after the commit."""
    record = depository.request_create(service_name="MODIFY_PROJECT",
                                       payload={"projectNo": project.project_no, "status": status},
                                       owner=project, prefix="WXM")
    depository.request_send_on_commit(record)
    return record


def project_state(project: Project) -> dict:
    """What the audit log keeps of a project before and after an operator's action."""
    return {"status": project.status, "raised": project.raised, "amount": project.amount}
