"""What a bank result does to repayments: one handler per (owner, service), in the
``RESULTS`` table that ``RepaymentsConfig.ready`` registers with the depository's dispatcher
(decision record 0004). Every request of repayments is owned by its ``Repayment``.

Money path of one repayment (PROTOCOL §5):

1. ``repay_start`` / ``prepay_start``: in one transaction, a ``Repayment`` row with every
   amount already split, the conditional UPDATE that attaches it to its period(s) (at most
   one repayment in flight per period: a double click gets ``Conflict``) and the
   ``USER_PRE_TRANSACTION`` (bizType ``REPAYMENT``) record; sent after the commit.
2. Freeze SUCCESS: ``CONFIRM_REPAYMENT`` with ``details`` per investor (principal, interest,
   commission 0) and the top-level ``commission`` = interest margin + penalty + prepayment
   fee. **The penalty goes to the platform in full** (investors receive exactly their
   scheduled receivable; the late-payment risk and collection cost sit with the platform).
   Freeze FAIL: the repayment FAILED, the period free again.
   An automatic repayment's requests go through the depository outbox as BATCHes, and a
   batch's answers are applied a route at a time by ``results_many`` (same effects).
3. Confirm SUCCESS: periods REPAID, receivables RECEIVED, fund records REPAYMENT (borrower)
   and RECEIVABLE (each investor); when nothing is left unpaid the project is FINISHED
   (lending's transition table) and MODIFY_PROJECT FINISHED goes to the bank.
   Confirm FAIL: ``CANCEL_PRE_TRANSACTION`` of the freeze; on its SUCCESS the freeze is
   released (UNFREEZE record) and the period is free again.

Locks (``locks``, docs/decisions/0003): project → repayment → plans (by pk) → accounts.
"""

from __future__ import annotations

import datetime as dt
import logging

from django.db import connection
from django.utils import timezone

from wanxin.depository import services as depository
from wanxin.depository.models import DepositoryRequest
from wanxin.depository.results import OwnerGone, ResultHandler, Route, owner_type_of
from wanxin.funds.domain import MoneyEvent
from wanxin.funds.services import FundEvents, fund_events_apply, fund_events_apply_many
from wanxin.lending import domain as lending_domain
from wanxin.lending.services import project_move, project_status_report

from . import locks
from .models import (
    CANCELLING,
    CONFIRMING,
    DONE,
    FAILED,
    FREEZING,
    PERIOD,
    PREPAY,
    RECEIVED,
    REPAID,
    ReceivablePlan,
    Repayment,
    RepaymentPlan,
)
from .services.transitions import UNPAID, plan_move_check, repayment_move, repayment_release

log = logging.getLogger("wanxin.repayments")

REPAYMENT = owner_type_of(Repayment)


def _send(record: DepositoryRequest) -> None:
    """An automatic repayment's next request goes through the outbox (written with
    ``outbox=True``; decision record 0007); a borrower's own is sent after the commit."""
    if not record.outbox:
        depository.request_send_on_commit(record)


def _repayment(record: DepositoryRequest) -> Repayment:
    repayment = locks.repayment_lock(record.owner_id)
    if repayment is None:
        raise OwnerGone(record.request_no)
    return repayment


def _on_freeze(record: DepositoryRequest) -> None:
    repayment = _repayment(record)
    if repayment.request_no != record.request_no or repayment.status != FREEZING:
        return
    if record.status != DepositoryRequest.Status.SUCCESS:
        repayment_move(repayment, FAILED, fail_reason=f"{record.resp_msg} ({record.resp_code})"[:300],
                        finished_at=timezone.now())
        repayment_release(repayment)
        return
    fund_events_apply(user_no=record.user_no, request_no=record.request_no, events=[
        MoneyEvent("FREEZE", -repayment.total, -repayment.total, repayment.total, remark="repayment frozen")])
    confirm = depository.request_create(service_name="CONFIRM_REPAYMENT", payload={
        "preRequestNo": repayment.request_no, "projectNo": record.payload["projectNo"],
        "commission": repayment.commission,
        "details": [{k: d[k] for k in ("userNo", "principal", "interest", "commission")} for d in repayment.details]},
        owner=repayment, user_no=record.user_no, amount=repayment.total, prefix="WXC", outbox=repayment.auto)
    repayment_move(repayment, CONFIRMING, confirm_request_no=confirm.request_no)
    _send(confirm)


def _on_confirm(record: DepositoryRequest) -> None:
    # The loan first (the global lock order): a last period makes it FINISHED below.
    project, repayment = locks.project_and_repayment_lock(record.owner_id)
    if project is None or repayment is None:
        raise OwnerGone(record.request_no)
    if repayment.confirm_request_no != record.request_no or repayment.status != CONFIRMING:
        return
    if record.status != DepositoryRequest.Status.SUCCESS:
        cancel = depository.request_create(service_name="CANCEL_PRE_TRANSACTION",
                                           payload={"preRequestNo": repayment.request_no},
                                           owner=repayment, user_no=record.user_no, amount=repayment.total,
                                           prefix="WXU", outbox=repayment.auto)
        repayment_move(repayment, CANCELLING, cancel_request_no=cancel.request_no,
                        fail_reason=f"{record.resp_msg} ({record.resp_code})"[:300])
        _send(cancel)
        return
    now = timezone.now()
    repayment_move(repayment, DONE, finished_at=now)
    plans = locks.plans_lock(repayment=repayment)
    for number, plan in enumerate(plans):
        plan_move_check(plan.status, REPAID)
        plan.status, plan.repaid_at = REPAID, now
        if repayment.kind == PERIOD:
            plan.penalty = repayment.penalty  # the penalty paid is the one frozen, whatever accrued since
            plan.paid_amount = plan.principal + plan.interest + plan.penalty
        else:  # a prepayment's whole amount is booked on its first period
            plan.paid_amount = repayment.total if number == 0 else 0
    RepaymentPlan.objects.bulk_update(plans, ["status", "repaid_at", "penalty", "paid_amount"])
    receivables_received([repayment], now)
    # Every investor's RECEIVABLE and the borrower's REPAYMENT: three statements in all.
    items = []
    for detail in repayment.details:
        amount = detail["principal"] + detail["interest"] - detail["commission"]
        if amount:
            items.append(FundEvents(detail["userNo"], f"{record.request_no}:{detail['userNo']}", [
                MoneyEvent("RECEIVABLE", amount, amount, remark=f"repayment {record.payload['projectNo']}")]))
    items.append(FundEvents(record.user_no, record.request_no, [
        MoneyEvent("REPAYMENT", -repayment.total, 0, -repayment.total,
                   remark=f"{'prepayment' if repayment.kind == PREPAY else 'repayment'} "
                          f"{record.payload['projectNo']}")]))
    fund_events_apply_many(items, at=now)
    if not RepaymentPlan.objects.filter(project_id=repayment.project_id, status__in=UNPAID).exists():
        project_move(project, lending_domain.FINISHED)
        project_status_report(project, lending_domain.FINISHED)


def receivables_received(repayments: list[Repayment], now: dt.datetime) -> None:
    """Every receivable of the repayments RECEIVED with the amount its detail carries, in one UPDATE."""
    rows = sorted((int(pk), principal + interest) for repayment in repayments for detail in repayment.details
                  for pk, (principal, interest) in detail["receivables"].items())
    if not rows:
        return
    values = ", ".join(["(%s::bigint, %s::bigint)"] * len(rows))
    with connection.cursor() as cursor:
        cursor.execute(
            f"UPDATE {ReceivablePlan._meta.db_table} AS r SET status = %s, received_at = %s, "  # noqa: S608
            f"received_amount = v.amount FROM (VALUES {values}) AS v(id, amount) WHERE r.id = v.id",
            [RECEIVED, now, *(x for row in rows for x in row)])


def _on_cancel(record: DepositoryRequest) -> None:
    repayment = _repayment(record)
    if repayment.cancel_request_no != record.request_no or repayment.status != CANCELLING:
        return
    if record.status != DepositoryRequest.Status.SUCCESS:
        log.error("releasing repayment freeze %s refused: %s %s (listed at /loans/review/releases to retry)",
                  repayment.request_no, record.resp_code, record.resp_msg)
        return
    repayment_move(repayment, FAILED, finished_at=timezone.now())
    fund_events_apply(user_no=record.user_no, request_no=record.request_no, events=[
        MoneyEvent("UNFREEZE", repayment.total, repayment.total, -repayment.total, remark="repayment failed")])
    repayment_release(repayment)


RESULTS: dict[Route, ResultHandler] = {
    (REPAYMENT, "USER_PRE_TRANSACTION"): _on_freeze,
    (REPAYMENT, "CONFIRM_REPAYMENT"): _on_confirm,
    (REPAYMENT, "CANCEL_PRE_TRANSACTION"): _on_cancel,
}
