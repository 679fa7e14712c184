"""What a bank result does to lending: one handler per (owner, service), in the ``RESULTS``
table that ``LendingConfig.ready`` registers with the depository's dispatcher (decision
record 0004). Each runs inside ``depository.result_apply``'s transaction, the record settled
once; it looks its owner up first and raises ``OwnerGone`` if it is gone.

Owners: the project (CREATE_PROJECT, MODIFY_PROJECT), the tender (its freeze and its
unfreeze), the disbursement proposal (CONFIRM_LOAN).

Locks follow the global order (``locks``, docs/decisions/0003): CONFIRM_LOAN takes the
project, the proposal, the tenders, then the accounts. A tender's freeze takes the tender,
the investor's account, then moves the project's counters with one conditional UPDATE (the
hot-counter exception of the order)."""

from __future__ import annotations

import datetime as dt
import logging

from django.db import connection
from django.db.models import F
from django.utils import timezone
from django.utils.translation import gettext as _

from wanxin.core.errors import NotFound
from wanxin.depository.models import DepositoryRequest
from wanxin.depository.results import OwnerGone, ResultHandler, Route, owner_type_of
from wanxin.funds.domain import MoneyEvent
from wanxin.funds.services import FundEvents, fund_events_apply, fund_events_apply_many

from . import domain, locks, selectors
from .models import Disbursement, Project, Tender
from .services.miscarry import tender_refund_issue
from .services.transitions import project_move, project_status_report, tender_move
from .signals import loan_disbursed

log = logging.getLogger("wanxin.lending")

PROJECT = owner_type_of(Project)
TENDER = owner_type_of(Tender)
DISBURSEMENT = owner_type_of(Disbursement)


def _failure(record: DepositoryRequest) -> str:
    return f"{record.resp_msg} ({record.resp_code})"[:300]


# -- the project --------------------------------------------------------------------------------


def _on_create_project(record: DepositoryRequest) -> None:
    project = locks.project_lock(record.owner_id)
    if project is None:
        raise OwnerGone(record.request_no)
    if project.create_request_no != record.request_no or project.status != domain.PENDING_REVIEW:
        return
    if record.status == DepositoryRequest.Status.SUCCESS:
        now = timezone.now()
        project_move(project, domain.COLLECTING, bank_status=domain.COLLECTING, published_at=now,
                     collect_until=now + dt.timedelta(days=project.window_days or 1))
    else:  # back to the reviewer, who may approve again
        Project.objects.filter(pk=project.pk).update(create_request_no="", bank_error=_failure(record))


_BANK_EARLIER = {
    domain.FULL: (domain.COLLECTING,),
    domain.REPAYING: (domain.COLLECTING, domain.FULL),
    domain.FINISHED: (domain.COLLECTING, domain.FULL, domain.REPAYING),
    domain.MISCARRIED: (domain.COLLECTING, domain.FULL),
}


def _on_modify_project(record: DepositoryRequest) -> None:
    projects = Project.objects.filter(pk=record.owner_id)
    if record.status == DepositoryRequest.Status.SUCCESS:
        # Results may be applied out of order (recovery): the bank's status only moves forward.
        new = record.payload["status"]
        if not projects.filter(bank_status__in=_BANK_EARLIER.get(new, ())).update(bank_status=new) \
                and not projects.exists():
            raise OwnerGone(record.request_no)
    else:
        log.error("MODIFY_PROJECT %s refused: %s %s", record.request_no, record.resp_code, record.resp_msg)
        if not projects.update(bank_error=f"{record.payload['status']}: {_failure(record)}"[:300]):
            raise OwnerGone(record.request_no)


# -- tenders ------------------------------------------------------------------------------------------


def _tender(record: DepositoryRequest) -> Tender:
    tender = locks.tender_lock(record.owner_id)
    if tender is None:
        raise OwnerGone(record.request_no)
    return tender


def _on_tender_freeze(record: DepositoryRequest) -> None:
    tender = _tender(record)
    if tender.request_no != record.request_no or tender.status != domain.T_PENDING:
        return
    if record.status != DepositoryRequest.Status.SUCCESS:
        tender_move(tender, domain.T_FAILED, fail_reason=_failure(record))
        # Release the reservation: exactly once, because a record is settled once.
        Project.objects.filter(pk=tender.project_id, raised__gte=tender.amount).update(
            raised=F("raised") - tender.amount, updated_at=timezone.now())
        return
    tender_move(tender, domain.T_FROZEN)
    fund_events_apply(user_no=record.user_no, request_no=record.request_no, events=[
        MoneyEvent("FREEZE", -tender.amount, -tender.amount, tender.amount, remark="investment frozen")])
    project = _frozen_add(tender.project_id, tender.amount)
    if project.status == domain.COLLECTING and project.frozen_amount == project.amount:
        project_move(project, domain.FULL, full_at=timezone.now())
        project_status_report(project, domain.FULL)
    elif project.status == domain.MISCARRIED:
        tender_refund_issue(tender)


_FROZEN_ADD_COLUMNS = ["id", "project_no", "amount", "status", "frozen_amount"]
_FROZEN_ADD = (
    "UPDATE lending_project SET frozen_amount = frozen_amount + %s, updated_at = %s "  # noqa: S608 (constant columns)
    f"WHERE id = %s RETURNING {', '.join(_FROZEN_ADD_COLUMNS)}"
)


def _frozen_add(project_id: int, amount: int) -> Project:
    """Add a confirmed freeze to the loan and read it back under the row lock the UPDATE
    took: one statement on the hot row instead of UPDATE + SELECT … FOR UPDATE. The
    returned project has only these columns loaded (others load on access)."""
    with connection.cursor() as cur:
        cur.execute(_FROZEN_ADD, [amount, timezone.now(), project_id])
        row = cur.fetchone()
    if row is None:  # pragma: no cover - a tender's project is never deleted (PROTECT)
        raise NotFound(_("No such loan."), code="not_found")
    return Project.from_db(connection.alias, _FROZEN_ADD_COLUMNS, row)


def _on_tender_cancel(record: DepositoryRequest) -> None:
    tender = _tender(record)
    if tender.cancel_request_no != record.request_no or tender.status != domain.T_FROZEN:
        return
    if record.status != DepositoryRequest.Status.SUCCESS:
        log.error("unfreezing tender %s refused: %s %s (listed at /loans/review/releases to retry)", tender.pk,
                  record.resp_code, record.resp_msg)
        return
    tender_move(tender, domain.T_REFUNDED)
    fund_events_apply(user_no=record.user_no, request_no=record.request_no, events=[
        MoneyEvent("UNFREEZE", tender.amount, tender.amount, -tender.amount, remark="loan cancelled")])


# -- disbursement ---------------------------------------------------------------------------------------


def _on_confirm_loan(record: DepositoryRequest) -> None:
    # The loan, its proposal, its tenders, then the accounts: the order disbursement_approve
    # takes too, so an approval racing this answer cannot deadlock with it.
    project, proposal = locks.project_and_proposal_lock(record.owner_id)
    if project is None or proposal is None:
        raise OwnerGone(record.request_no)
    if proposal.request_no != record.request_no or proposal.status != Disbursement.Status.SENT:
        return
    if record.status != DepositoryRequest.Status.SUCCESS:
        Disbursement.objects.filter(pk=proposal.pk).update(status=Disbursement.Status.FAILED, note=_failure(record))
        return
    Disbursement.objects.filter(pk=proposal.pk).update(status=Disbursement.Status.DONE)
    details = {d["preRequestNo"]: d["amount"] for d in record.payload["details"]}
    tenders = locks.tenders_lock(request_no__in=list(details))
    user_nos = selectors.user_nos_of({tender.investor_id for tender in tenders})
    items = []
    for tender in tenders:
        tender_move(tender, domain.T_LOANED)
        # Keyed by the tender's own freeze number: one TENDER record per tender.
        items.append(FundEvents(user_nos.get(tender.investor_id, ""), tender.request_no, [
            MoneyEvent("TENDER", -tender.amount, 0, -tender.amount, remark=f"loan {record.payload['projectNo']}")]))
    total = sum(details.values())
    events = [MoneyEvent("LOAN_RECEIVED", total, total, remark=f"loan {record.payload['projectNo']}")]
    if proposal.commission:
        events.append(MoneyEvent("LOAN_COMMISSION", -proposal.commission, -proposal.commission,
                                 remark="service fee"))
    # Every investor's TENDER and the borrower's loan: three statements whatever their number.
    fund_events_apply_many([*items, FundEvents(record.user_no, record.request_no, events)])
    project_move(project, domain.REPAYING, loaned_at=timezone.now())
    # Repayments subscribes and builds its plans, in this same transaction.
    loan_disbursed.send(sender=Project, project=project)
    project_status_report(project, domain.REPAYING)


RESULTS: dict[Route, ResultHandler] = {
    (PROJECT, "CREATE_PROJECT"): _on_create_project,
    (PROJECT, "MODIFY_PROJECT"): _on_modify_project,
    (TENDER, "USER_PRE_TRANSACTION"): _on_tender_freeze,
    (TENDER, "CANCEL_PRE_TRANSACTION"): _on_tender_cancel,
    (DISBURSEMENT, "CONFIRM_LOAN"): _on_confirm_loan,
}
