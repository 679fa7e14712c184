"""One project's whole history in time order: its status changes (from its own time fields,
with who from the review fields, the disbursement and the audit log), the tenders, the bank
requests of the project and of everything it owns (tenders, disbursements, repayments) with
the bank's answers, the repayments, and every audit row about any of them. Each source is
one query; the merge is of one project's rows."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from wanxin.audit import display as audit_display
from wanxin.audit.models import AuditLog
from wanxin.core.money import format_fen
from wanxin.depository.models import DepositoryRequest
from wanxin.depository.results import owner_type_of
from wanxin.lending import domain
from wanxin.lending.labels import status_label, tender_status_label
from wanxin.lending.models import Disbursement, Project, Tender
from wanxin.repayments.models import STATUS_LABELS as REPAYMENT_STATUS_LABELS
from wanxin.repayments.models import Repayment, RepaymentPlan

STATUS, TENDER, BANK, REPAYMENT, AUDIT = "status", "tender", "bank", "repayment", "audit"
KIND_LABELS = {STATUS: gettext_lazy("Status"), TENDER: gettext_lazy("Tender"), BANK: gettext_lazy("Bank request"),
               REPAYMENT: gettext_lazy("Repayment"), AUDIT: gettext_lazy("Audit")}
# What each bank service does, as people read it (the request number stays the reference).
SERVICE_LABELS = {
    "CREATE_PROJECT": gettext_lazy("Register the loan at the bank"),
    "MODIFY_PROJECT": gettext_lazy("Change the loan's status at the bank"),
    "USER_PRE_TRANSACTION": gettext_lazy("Freeze"),
    "USER_AUTO_PRE_TRANSACTION": gettext_lazy("Freeze"),
    "CANCEL_PRE_TRANSACTION": gettext_lazy("Release a freeze"),
    "CONFIRM_LOAN": gettext_lazy("Disburse the loan"),
    "CONFIRM_REPAYMENT": gettext_lazy("Pay the repayment out"),
}
BANK_STATUS_LABELS = {s.value: s.label for s in DepositoryRequest.Status}
_SYSTEM = gettext_lazy("System")


@dataclass(frozen=True)
class Event:
    at: dt.datetime
    kind: str
    title: str
    who: str = ""
    details: list[tuple[str, str]] = field(default_factory=list)
    reference: str = ""  # a request number, a tender id
    order: int = 0  # ties at the same instant: status changes first

    @property
    def kind_label(self) -> str:
        return str(KIND_LABELS[self.kind])


def _status_events(project: Project, disbursements: list[Disbursement], audits: list[AuditLog]) -> list[Event]:
    def actor(action: str) -> str:
        row = next((a for a in audits if a.action == action and a.target_type == "lending.project"), None)
        return (row.actor_username or str(_SYSTEM)) if row else str(_SYSTEM)

    borrower = project.borrower.username
    events = [Event(project.created_at, STATUS, _("Applied: %(status)s") % {"status": status_label(
        domain.PENDING_REVIEW)}, borrower, [(_("Amount"), format_fen(project.amount))])]
    reviewer = project.reviewed_by.username if project.reviewed_by_id else str(_SYSTEM)
    if project.reviewed_at and project.status == domain.REJECTED:
        events.append(Event(project.reviewed_at, STATUS, _("Rejected"), reviewer,
                            [(_("Reason"), project.review_reason)]))
    elif project.reviewed_at:
        events.append(Event(project.reviewed_at, STATUS, _("Approved with terms"), reviewer))
    if project.published_at:
        events.append(Event(project.published_at, STATUS, _("Published: %(status)s") % {
            "status": status_label(domain.COLLECTING)}, str(_SYSTEM)))
    if project.full_at:
        events.append(Event(project.full_at, STATUS, status_label(domain.FULL), str(_SYSTEM)))
    if project.miscarried_at:
        events.append(Event(project.miscarried_at, STATUS, status_label(domain.MISCARRIED), actor("loan.miscarry"),
                            [(_("Reason"), project.miscarry_reason)]))
    if project.loaned_at:
        done = next((d for d in disbursements if d.status == Disbursement.Status.DONE), None)
        who = done.approved_by.username if done and done.approved_by_id else str(_SYSTEM)
        events.append(Event(project.loaned_at, STATUS, _("Disbursed: %(status)s") % {
            "status": status_label(domain.REPAYING)}, who))
    if project.status == domain.FINISHED:
        last = (RepaymentPlan.objects.filter(project=project).exclude(repaid_at=None)
                .order_by("-repaid_at").values_list("repaid_at", flat=True).first())
        if last:
            events.append(Event(last, STATUS, status_label(domain.FINISHED), str(_SYSTEM)))
    return events


def _bank_event(record: DepositoryRequest) -> Event:
    details = [(_("Answer"), str(BANK_STATUS_LABELS.get(record.status, record.status)))]
    if record.resp_code:
        details.append((_("Code"), f"{record.resp_code} {record.resp_msg}".strip()))
    if record.amount is not None:
        details.append((_("Amount"), format_fen(record.amount)))
    if record.finished_at:
        details.append((_("Answered at"), f"{timezone.localtime(record.finished_at):%Y-%m-%d %H:%M:%S}"))
    title = str(SERVICE_LABELS.get(record.service_name, record.service_label))
    return Event(record.created_at, BANK, title, str(_SYSTEM), details, record.request_no, order=2)


def timeline(project: Project) -> list[Event]:
    tenders = list(Tender.objects.filter(project=project).select_related("investor").order_by("created_at", "pk"))
    disbursements = list(Disbursement.objects.filter(project=project).select_related("approved_by"))
    repayments = list(Repayment.objects.filter(project=project).select_related("borrower").order_by("created_at"))
    owners = {
        owner_type_of(Project): [project.pk],
        owner_type_of(Tender): [t.pk for t in tenders],
        owner_type_of(Disbursement): [d.pk for d in disbursements],
        owner_type_of(Repayment): [r.pk for r in repayments],
    }
    owned, targets = Q(pk__in=[]), Q(pk__in=[])
    for owner_type, ids in owners.items():
        if ids:
            owned |= Q(owner_type=owner_type, owner_id__in=ids)
            targets |= Q(target_type=owner_type, target_id__in=[str(i) for i in ids])
    audits = list(AuditLog.objects.filter(targets).order_by("at", "pk"))

    events = _status_events(project, disbursements, audits)
    for t in tenders:
        events.append(Event(t.created_at, TENDER, _("Tender of %(amount)s") % {
            "amount": format_fen(t.amount)}, t.investor.username,
            [(_("Status"), str(tender_status_label(t.status)))] + ([(_("Reason"), t.fail_reason)] if t.fail_reason
                                                                   else []), f"#{t.pk}", order=1))
    for r in repayments:
        events.append(Event(r.created_at, REPAYMENT, _("Repayment of %(amount)s") % {
            "amount": format_fen(r.total)}, r.borrower.username,
            [(_("Status"), str(REPAYMENT_STATUS_LABELS.get(r.status, r.status)))], f"#{r.pk}", order=1))
    events += [_bank_event(r) for r in DepositoryRequest.objects.filter(owned).order_by("created_at", "pk")]
    for a in audits:
        details = [(_("Object"), f"{audit_display.target_label(a.target_type)} #{a.target_id}")]
        details += [(label, value) for label, value in audit_display.readable(a.after)]
        events.append(Event(a.at, AUDIT, audit_display.action_label(a.action), a.actor_username or str(_SYSTEM),
                            details, order=3))
    return sorted(events, key=lambda e: (e.at, e.order))
