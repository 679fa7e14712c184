"""A BATCH's answers for automatic repayments, a route at a time (``depository.results``
batch handlers, decision record 0007): the effect of ``results._on_freeze`` /
``results._on_confirm`` on each record in turn, in a few statements for the whole batch.

Only the common case is set-based: an automatic period repayment whose freeze or
confirmation succeeded. Everything else (a refusal, a prepayment, a borrower's own repayment)
goes through the single handler, record by record, in the same transaction. Locks keep the one
order (decision record 0003): loans, repayments, periods, accounts, each by primary key.
"""

from __future__ import annotations

from django.db import connection
from django.utils import timezone

from wanxin.depository import services as depository
from wanxin.depository.models import DepositoryRequest
from wanxin.depository.results import BatchHandler, ResultHandler, Route
from wanxin.funds.domain import MoneyEvent
from wanxin.funds.services import FundEvents, fund_events_apply_many
from wanxin.lending import domain as lending_domain
from wanxin.lending.services import project_move, project_status_report

from . import locks, results
from .models import CONFIRMING, DONE, FREEZING, PERIOD, REPAID, Repayment, RepaymentPlan
from .services.transitions import UNPAID

SUCCESS = DepositoryRequest.Status.SUCCESS


def _on_freeze_many(records: list[DepositoryRequest]) -> list[DepositoryRequest]:
    repayments = locks.repayments_lock([r.owner_id for r in records])
    gone = [r for r in records if r.owner_id not in repayments]
    fast = []
    for record in records:
        repayment = repayments.get(record.owner_id)
        if repayment is None or repayment.request_no != record.request_no or repayment.status != FREEZING:
            continue
        if record.status == SUCCESS and repayment.auto:
            fast.append((record, repayment))
        else:
            results._on_freeze(record)
    if not fast:
        return gone
    fund_events_apply_many([FundEvents(record.user_no, record.request_no, [
        MoneyEvent("FREEZE", -r.total, -r.total, r.total, remark="repayment frozen")]) for record, r in fast])
    confirms = [depository.request_build(service_name="CONFIRM_REPAYMENT", payload={
        "preRequestNo": r.request_no, "projectNo": record.payload["projectNo"], "commission": r.commission,
        "details": [{k: d[k] for k in ("userNo", "principal", "interest", "commission")} for d in r.details]},
        owner=r, user_no=record.user_no, amount=r.total, prefix="WXC", outbox=True) for record, r in fast]
    depository.requests_create(confirms)
    rows = [(r.pk, confirm.request_no) for (_, r), confirm in zip(fast, confirms, strict=True)]
    _update(f"UPDATE {Repayment._meta.db_table} AS t SET status = %s, confirm_request_no = v.no "  # noqa: S608
            "FROM (VALUES {values}) AS v(id, no) WHERE t.id = v.id AND t.status = %s",
            "(%s::bigint, %s)", rows, before=[CONFIRMING], after=[FREEZING])
    return gone


def _on_confirm_many(records: list[DepositoryRequest]) -> list[DepositoryRequest]:
    # Every loan first (the global lock order): a last period makes its loan FINISHED below.
    projects, repayments = locks.projects_and_repayments_lock([r.owner_id for r in records])
    gone = [r for r in records if r.owner_id not in repayments]
    fast = []
    for record in records:
        repayment = repayments.get(record.owner_id)
        if repayment is None or repayment.confirm_request_no != record.request_no or repayment.status != CONFIRMING:
            continue
        if record.status == SUCCESS and repayment.auto and repayment.kind == PERIOD:
            fast.append((record, repayment))
        else:
            results._on_confirm(record)
    if not fast:
        return gone
    now = timezone.now()
    ids = [r.pk for _, r in fast]
    _update(f"UPDATE {Repayment._meta.db_table} AS t SET status = %s, finished_at = %s "  # noqa: S608
            "FROM (VALUES {values}) AS v(id) WHERE t.id = v.id AND t.status = %s",
            "(%s::bigint)", [(pk,) for pk in ids], before=[DONE, now], after=[CONFIRMING])
    # A period repayment pays its one period with the penalty it froze, whatever accrued since.
    locks.plans_lock(repayment_id__in=ids)
    _update(f"UPDATE {RepaymentPlan._meta.db_table} AS p SET status = %s, repaid_at = %s, "  # noqa: S608
            "penalty = v.penalty, paid_amount = p.principal + p.interest + v.penalty "
            "FROM (VALUES {values}) AS v(id, penalty) WHERE p.repayment_id = v.id AND p.status = ANY(%s)",
            "(%s::bigint, %s::bigint)", [(r.pk, r.penalty) for _, r in fast], before=[REPAID, now],
            after=[list(UNPAID)])
    results.receivables_received([r for _, r in fast], now)
    items = []
    for record, repayment in fast:
        project_no = record.payload["projectNo"]
        for detail in repayment.details:
            amount = detail["principal"] + detail["interest"] - detail["commission"]
            if amount:
                items.append(FundEvents(detail["userNo"], f"{record.request_no}:{detail['userNo']}", [
                    MoneyEvent("RECEIVABLE", amount, amount, remark=f"repayment {project_no}")]))
        items.append(FundEvents(record.user_no, record.request_no, [
            MoneyEvent("REPAYMENT", -repayment.total, 0, -repayment.total, remark=f"repayment {project_no}")]))
    fund_events_apply_many(items, at=now)
    touched = {r.project_id for _, r in fast}
    unpaid = set(RepaymentPlan.objects.filter(project_id__in=touched, status__in=UNPAID)
                 .values_list("project_id", flat=True).distinct())
    for project_id in sorted(touched - unpaid):
        project_move(projects[project_id], lending_domain.FINISHED)
        project_status_report(projects[project_id], lending_domain.FINISHED)
    return gone


def _update(sql: str, row: str, rows: list[tuple], *, before: list, after: list | None = None,
            check: bool = True) -> None:
    """Run ``sql`` with ``{values}`` as a VALUES list of ``rows``; with ``check``, every row must
    match (the rows are locked by this transaction: a miss is a bug, and undoes the batch)."""
    with connection.cursor() as cursor:
        cursor.execute(sql.format(values=", ".join([row] * len(rows))),
                       [*before, *(x for r in rows for x in r), *(after or [])])
        if check and cursor.rowcount != len(rows):
            raise RuntimeError(f"{cursor.rowcount} of {len(rows)} rows matched: {sql[:60]}")


RESULTS_MANY: dict[Route, tuple[ResultHandler, BatchHandler]] = {
    (results.REPAYMENT, "USER_PRE_TRANSACTION"): (results._on_freeze, _on_freeze_many),
    (results.REPAYMENT, "CONFIRM_REPAYMENT"): (results._on_confirm, _on_confirm_many),
}
