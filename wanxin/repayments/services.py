"""Every write of repayments: plan generation at disbursement, repayment of a period,
prepayment, the automatic repayment and reminder jobs, overdue marking and penalty
accrual, and the depository result handlers that settle repayments (DESIGN §5).

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
3. Confirm SUCCESS: periods REPAID, receivables RECEIVED, fund records REPAYMENT (borrower)
   and RECEIVABLE (each investor); when nothing is left unpaid the project is FINISHED
   (lending's transition table) and MODIFY_PROJECT FINISHED goes to the bank.
   Confirm FAIL: ``CANCEL_PRE_TRANSACTION`` of the freeze; on its SUCCESS the freeze is
   released (UNFREEZE record) and the period is free again.

Lock order: depository request → repayment → plans (by pk) → project.
"""

from __future__ import annotations

import datetime as dt
import logging
import threading
from collections import defaultdict
from decimal import Decimal

from django.conf import settings
from django.db import connection, connections, transaction
from django.db.models import F
from django.db.models.functions import Mod
from django.utils import timezone
from django.utils.translation import gettext as _

from wanxin.core.errors import Conflict, NotFound, WanxinError
from wanxin.core.money import allocate, format_fen
from wanxin.depository import services as depository
from wanxin.depository.models import DepositoryRequest
from wanxin.funds.domain import MoneyEvent
from wanxin.funds.models import DepositoryAccount
from wanxin.funds.services import FundEvents, fund_events_apply, fund_events_apply_many
from wanxin.lending import domain as lending_domain
from wanxin.lending import services as lending
from wanxin.lending.models import Project, Tender

from . import domain
from .models import (
    CANCELLING,
    CONFIRMING,
    DONE,
    DUE,
    FAILED,
    FREEZING,
    OVERDUE,
    PERIOD,
    PLAN_MOVES,
    PREPAY,
    RECEIVED,
    REPAID,
    REPAYMENT_MOVES,
    ReceivablePlan,
    Repayment,
    RepaymentPlan,
)

log = logging.getLogger("wanxin.repayments")
UNPAID = (DUE, OVERDUE)


def grace_days() -> int:
    return int(settings.REPAYMENT_GRACE_DAYS)


def penalty_daily_rate() -> Decimal:
    return Decimal(str(settings.REPAYMENT_PENALTY_DAILY_RATE))


def prepayment_fee_rate() -> Decimal:
    return Decimal(str(settings.REPAYMENT_PREPAYMENT_FEE_RATE))


def _repayment_move(repayment: Repayment, new: str, **fields) -> None:
    if new not in REPAYMENT_MOVES[repayment.status]:
        raise Conflict(_("A repayment cannot go from %(old)s to %(new)s.") % {"old": repayment.status, "new": new},
                       code="bad_status")
    updated = Repayment.objects.filter(pk=repayment.pk, status=repayment.status).update(status=new, **fields)
    if updated != 1:  # pragma: no cover - callers hold the repayment's row lock
        raise Conflict(_("The repayment changed meanwhile."), code="changed")
    repayment.status = new


def _check_plan_move(old: str, new: str) -> None:
    if new not in PLAN_MOVES[old]:
        raise Conflict(_("A repayment period cannot go from %(old)s to %(new)s.") % {"old": old, "new": new},
                       code="bad_status")


# -- plans --------------------------------------------------------------------------------------


def plans_generate(*, project: Project, start: dt.date | None = None) -> list[RepaymentPlan]:
    """The borrower's periods and every loaned tender's receivables, from ``domain.schedule``
    and ``domain.investor_receivables`` (DESIGN §4 exactness). Called by lending in the
    transaction that makes the project REPAYING; idempotent."""
    existing = list(RepaymentPlan.objects.filter(project=project))
    if existing:
        return existing
    start = start or timezone.localdate()
    periods = domain.schedule(project.amount, project.borrower_rate, project.months, project.method, start=start)
    tenders = list(Tender.objects.filter(project=project, status=lending_domain.T_LOANED).order_by("pk"))
    holdings = {t.pk: t.amount for t in tenders}
    parts = domain.investor_receivables(periods, holdings, project.investor_rate, project.borrower_rate)
    shares = domain.platform_shares(periods, parts)
    plans = RepaymentPlan.objects.bulk_create(
        RepaymentPlan(project=project, borrower_id=project.borrower_id, number=p.number, due_date=p.due,
                      principal=p.principal, interest=p.interest, platform_share=share)
        for p, share in zip(periods, shares, strict=True))
    by_tender = {t.pk: t for t in tenders}
    ReceivablePlan.objects.bulk_create(
        ReceivablePlan(plan=plans[i], tender_id=pk, investor_id=by_tender[pk].investor_id, number=part.number,
                       due_date=part.due, principal=part.principal, interest=part.interest)
        for pk, tender_parts in parts.items() for i, part in enumerate(tender_parts))
    return plans


# -- starting a repayment ----------------------------------------------------------------------------


def _borrower_account(borrower) -> DepositoryAccount:
    # Only what a repayment needs: the encrypted identity fields are not read (nor decrypted).
    account = (DepositoryAccount.objects.only("user_id", "user_no", "status", "auth_list", "available")
               .filter(user=borrower).first())
    if account is None or not account.is_open:
        raise Conflict(_("Open your depository account first."), code="no_account")
    if "REPAYMENT" not in (account.auth_list or []):
        raise Conflict(_("Authorise repayment (REPAYMENT) at the bank first."), code="not_authorised")
    return account


def _repaying(project: Project) -> None:
    if project.status != lending_domain.REPAYING:
        raise Conflict(_("This loan is not being repaid."), code="not_repaying")
    if project.bank_status != lending_domain.REPAYING:
        raise Conflict(_("The bank has not confirmed the loan is repaying yet; try again shortly."), code="bank_pending")


def _receivables_of(*order_by: str, **filters) -> list[ReceivablePlan]:
    """Receivable plans with their investor's userNo (``user_no``), in one statement."""
    return list(ReceivablePlan.objects.filter(**filters).order_by(*order_by)
                .annotate(user_no=F("investor__depository_account__user_no")))


def _investor_details(receivables: list[tuple[ReceivablePlan, int, int]]) -> list[dict]:
    """Group (receivable read by ``_receivables_of``, principal, interest) by the investor's
    userNo, in a stable order."""
    grouped: dict[str, dict] = {}
    for receivable, principal, interest in receivables:
        no = receivable.user_no
        entry = grouped.setdefault(no, {"userNo": no, "principal": 0, "interest": 0, "commission": 0,
                                        "receivables": {}})
        entry["principal"] += principal
        entry["interest"] += interest
        entry["receivables"][str(receivable.pk)] = [principal, interest]
    return list(grouped.values())


def _start(*, borrower, project: Project, plans: list[RepaymentPlan], kind: str, principal: int, interest: int,
           penalty: int, fee: int, commission: int, details: list[dict], auto: bool) -> Repayment:
    """Inside a transaction: the repayment, its periods claimed (conditional UPDATE) and the
    freeze recorded; the freeze is sent after the commit."""
    account = _borrower_account(borrower)
    total = principal + interest + penalty + fee
    if sum(d["principal"] + d["interest"] for d in details) + commission != total:  # pragma: no cover
        raise WanxinError(_("The repayment does not add up."), code="mismatch", status=500)
    if account.available < total:
        raise Conflict(_("Your available balance %(available)s is less than the %(total)s due; recharge first.")
                       % {"available": format_fen(account.available), "total": format_fen(total)},
                       code="insufficient_balance")
    record = depository.request_create(service_name="USER_PRE_TRANSACTION", payload={
        "userNo": account.user_no, "bizType": "REPAYMENT", "amount": total, "projectNo": project.project_no,
        "remark": f"repayment {project.project_no}"}, user_no=account.user_no, amount=total, prefix="WXR")
    repayment = Repayment.objects.create(
        project=project, borrower=borrower, kind=kind, auto=auto, request_no=record.request_no, principal=principal,
        interest=interest, penalty=penalty, fee=fee, commission=commission, total=total, details=details)
    claimed = RepaymentPlan.objects.filter(pk__in=[p.pk for p in plans], status__in=UNPAID,
                                           repayment__isnull=True).update(repayment=repayment)
    if claimed != len(plans):
        raise Conflict(_("This period is already being repaid; please wait for the bank's answer."),
                       code="in_progress")
    lending._send_after_commit(record)
    return repayment


def _plan_of(borrower, plan_id: int) -> RepaymentPlan:
    plan = RepaymentPlan.objects.select_related("project").filter(pk=plan_id, borrower_id=borrower.pk).first()
    if plan is None:
        raise NotFound(_("No such repayment period."), code="not_found")
    return plan


def _unclaimed(plan: RepaymentPlan) -> RepaymentPlan:
    if plan.status == REPAID:
        raise Conflict(_("This period is already repaid."), code="repaid")
    if plan.repayment_id is not None:
        raise Conflict(_("This period is already being repaid; please wait for the bank's answer."),
                       code="in_progress")
    return plan


def repay_start(*, borrower, plan_id: int, auto: bool = False, plan: RepaymentPlan | None = None) -> Repayment:
    """Repay one due or overdue period (with its penalty) from the depository balance.

    ``plan``: the period as the automatic job read it (with its project), which spares
    reading it again; the checks below then run on that read, and again on the row locked
    in the transaction, and the conditional claim decides as always."""
    lending._customer(borrower)
    if (plan is None or plan.pk != plan_id or plan.borrower_id != borrower.pk
            or not RepaymentPlan.project.is_cached(plan)):
        plan = _plan_of(borrower, plan_id)
    _repaying(plan.project)
    _unclaimed(plan)
    earlier = RepaymentPlan.objects.filter(project_id=plan.project_id, number__lt=plan.number,
                                           status__in=UNPAID).exists()
    if earlier:
        raise Conflict(_("Repay the earlier periods first."), code="earlier_unpaid")
    project = plan.project  # read with the plan above; the locked re-read below need not load it again
    with transaction.atomic():
        plan = _unclaimed(RepaymentPlan.objects.select_for_update().get(pk=plan.pk))
        receivables = _receivables_of("pk", plan=plan)
        details = _investor_details([(r, r.principal, r.interest) for r in receivables])
        return _start(borrower=borrower, project=project, plans=[plan], kind=PERIOD, principal=plan.principal,
                      interest=plan.interest, penalty=plan.penalty, fee=0,
                      commission=plan.platform_share + plan.penalty, details=details, auto=auto)


def prepay_quote(*, project: Project, today: dt.date | None = None) -> dict:
    """What repaying the whole outstanding principal today costs: principal, interest to
    date (ACT/360 since the last due date, at the borrower rate), the fee, and the split."""
    today = today or timezone.localdate()
    plans = list(RepaymentPlan.objects.filter(project=project).order_by("number"))
    unpaid = [p for p in plans if p.status in UNPAID]
    if not unpaid:
        raise Conflict(_("Nothing is left to repay."), code="repaid")
    if any(p.status == OVERDUE or p.due_date <= today for p in unpaid):
        raise Conflict(_("Repay the period that is due first; then you can prepay the rest."), code="due_first")
    paid = [p.due_date for p in plans if p.status == REPAID]
    last = max(paid) if paid else timezone.localdate(project.loaned_at) if project.loaned_at else today
    days = max((today - last).days, 0)
    remaining = sum(p.principal for p in unpaid)
    quote = domain.prepayment(remaining, project.borrower_rate, days, prepayment_fee_rate())
    receivables = _receivables_of("tender_id", "number", plan__in=unpaid)
    outstanding: dict[int, int] = defaultdict(int)
    for r in receivables:
        outstanding[r.tender_id] += r.principal
    pool = domain.investor_interest_pool(quote.interest_to_date, project.investor_rate, project.borrower_rate)
    keys = list(outstanding)
    interests = dict(zip(keys, allocate(pool, [outstanding[k] for k in keys]), strict=True)) if keys else {}
    # Each tender's interest to date rides on its earliest unpaid receivable.
    first: set[int] = set()
    parts = []
    for r in receivables:
        extra = 0
        if r.tender_id not in first:
            first.add(r.tender_id)
            extra = interests[r.tender_id]
        parts.append((r, r.principal, extra))
    return {"plans": unpaid, "days": days, "principal": quote.principal, "interest": quote.interest_to_date,
            "fee": quote.fee, "total": quote.total, "commission": quote.interest_to_date - pool + quote.fee,
            "parts": parts}


def prepay_start(*, borrower, project_id: int, today: dt.date | None = None) -> Repayment:
    """Repay the whole outstanding principal with interest to date and the prepayment fee."""
    lending._customer(borrower)
    project = Project.objects.filter(pk=project_id, borrower_id=borrower.pk).first()
    if project is None:
        raise NotFound(_("No such loan."), code="not_found")
    _repaying(project)
    if RepaymentPlan.objects.filter(project=project, repayment__isnull=False, status__in=UNPAID).exists():
        raise Conflict(_("A repayment of this loan is in progress; please wait for the bank's answer."),
                       code="in_progress")
    with transaction.atomic():
        list(RepaymentPlan.objects.select_for_update().filter(project=project).order_by("pk"))
        quote = prepay_quote(project=project, today=today)
        return _start(borrower=borrower, project=project, plans=quote["plans"], kind=PREPAY,
                      principal=quote["principal"], interest=quote["interest"], penalty=0, fee=quote["fee"],
                      commission=quote["commission"], details=_investor_details(quote["parts"]), auto=False)


# -- results -----------------------------------------------------------------------------------------


def _release(repayment: Repayment) -> None:
    RepaymentPlan.objects.filter(repayment=repayment, status__in=UNPAID).update(repayment=None)


@depository.result_handler("USER_PRE_TRANSACTION")
def _on_freeze(record: DepositoryRequest) -> None:
    if (record.payload or {}).get("bizType") != "REPAYMENT":
        return  # a tender's freeze: settled by lending
    repayment = Repayment.objects.select_for_update().filter(request_no=record.request_no).first()
    if repayment is None or repayment.status != FREEZING:
        return  # not a repayment (tenders are settled by lending)
    if record.status != DepositoryRequest.Status.SUCCESS:
        _repayment_move(repayment, FAILED, fail_reason=f"{record.resp_msg} ({record.resp_code})"[:300],
                        finished_at=timezone.now())
        _release(repayment)
        return
    fund_events_apply(user_no=record.user_no, request_no=record.request_no, events=[
        MoneyEvent("FREEZE", -repayment.total, -repayment.total, repayment.total, remark="repayment frozen")])
    confirm = depository.request_create(service_name="CONFIRM_REPAYMENT", payload={
        "preRequestNo": repayment.request_no, "projectNo": record.payload["projectNo"],
        "commission": repayment.commission,
        "details": [{k: d[k] for k in ("userNo", "principal", "interest", "commission")} for d in repayment.details]},
        user_no=record.user_no, amount=repayment.total, prefix="WXC")
    _repayment_move(repayment, CONFIRMING, confirm_request_no=confirm.request_no)
    lending._send_after_commit(confirm)


@depository.result_handler("CONFIRM_REPAYMENT")
def _on_confirm(record: DepositoryRequest) -> None:
    repayment = Repayment.objects.select_for_update().filter(confirm_request_no=record.request_no).first()
    if repayment is None or repayment.status != CONFIRMING:
        return
    if record.status != DepositoryRequest.Status.SUCCESS:
        cancel = depository.request_create(service_name="CANCEL_PRE_TRANSACTION",
                                           payload={"preRequestNo": repayment.request_no},
                                           user_no=record.user_no, amount=repayment.total, prefix="WXU")
        _repayment_move(repayment, CANCELLING, cancel_request_no=cancel.request_no,
                        fail_reason=f"{record.resp_msg} ({record.resp_code})"[:300])
        lending._send_after_commit(cancel)
        return
    now = timezone.now()
    _repayment_move(repayment, DONE, finished_at=now)
    plans = list(RepaymentPlan.objects.select_for_update().filter(repayment=repayment).order_by("pk"))
    for number, plan in enumerate(plans):
        _check_plan_move(plan.status, REPAID)
        plan.status, plan.repaid_at = REPAID, now
        if repayment.kind == PERIOD:
            plan.penalty = repayment.penalty  # the penalty paid is the one frozen, whatever accrued since
            plan.paid_amount = plan.principal + plan.interest + plan.penalty
        else:  # a prepayment's whole amount is booked on its first period
            plan.paid_amount = repayment.total if number == 0 else 0
    RepaymentPlan.objects.bulk_update(plans, ["status", "repaid_at", "penalty", "paid_amount"])
    _receivables_received(repayment, now)
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
        project = Project.objects.select_for_update().get(pk=repayment.project_id)
        lending._move(project, lending_domain.FINISHED)
        lending._modify_project(project, lending_domain.FINISHED)


def _receivables_received(repayment: Repayment, now: dt.datetime) -> None:
    """Every receivable of the repayment RECEIVED with the amount its detail carries, in one UPDATE."""
    rows = [(int(pk), principal + interest) for detail in repayment.details
            for pk, (principal, interest) in detail["receivables"].items()]
    if not rows:
        return
    values = ", ".join(["(%s::bigint, %s::bigint)"] * len(rows))
    with connection.cursor() as cursor:
        cursor.execute(
            f"UPDATE {ReceivablePlan._meta.db_table} AS r SET status = %s, received_at = %s, "  # noqa: S608
            f"received_amount = v.amount FROM (VALUES {values}) AS v(id, amount) WHERE r.id = v.id",
            [RECEIVED, now, *(x for row in sorted(rows) for x in row)])


@depository.result_handler("CANCEL_PRE_TRANSACTION")
def _on_cancel(record: DepositoryRequest) -> None:
    repayment = Repayment.objects.select_for_update().filter(cancel_request_no=record.request_no).first()
    if repayment is None or repayment.status != CANCELLING:
        return
    if record.status != DepositoryRequest.Status.SUCCESS:
        log.error("releasing repayment freeze %s refused: %s %s (listed at /loans/review/releases to retry)",
                  repayment.request_no, record.resp_code, record.resp_msg)
        return
    _repayment_move(repayment, FAILED, finished_at=timezone.now())
    fund_events_apply(user_no=record.user_no, request_no=record.request_no, events=[
        MoneyEvent("UNFREEZE", repayment.total, repayment.total, -repayment.total, remark="repayment failed")])
    _release(repayment)


def release_retry(*, operator, repayment_id: int) -> Repayment:
    """Ask the bank again to release a failed repayment's freeze after it refused the first
    CANCEL_PRE_TRANSACTION (the repayment stays CANCELLING and its periods held until the
    bank releases the money). A finance officer's action, audited."""
    lending._require(operator, "approve_disbursement")
    with transaction.atomic():
        repayment = Repayment.objects.select_for_update().filter(pk=repayment_id).first()
        if repayment is None:
            raise NotFound(_("No such repayment."), code="not_found")
        if repayment.status != CANCELLING:
            raise Conflict(_("The repayment is %(status)s; only a refused release can be retried.")
                           % {"status": repayment.get_status_display()},
                           code="bad_status")
        lending.release_reissue(repayment, operator=operator, action="repayment.release_retry",
                                pre_request_no=repayment.request_no, amount=repayment.total)
    return repayment


# -- jobs ----------------------------------------------------------------------------------------------


def auto_workers() -> int:
    return max(1, int(settings.REPAYMENT_AUTO_WORKERS))


def auto_shards() -> int:
    return max(1, int(settings.REPAYMENT_AUTO_SHARDS))


def auto_repay(*, today: dt.date | None = None, workers: int | None = None,
               shard: tuple[int, int] | None = None) -> dict[str, int]:
    """Repay every period due on or before ``today`` (and overdue ones) of borrowers who
    authorised REPAYMENT; one repayment each, skipping periods already in flight.

    One period per loan per run (the earliest). Different loans are repaid concurrently by
    up to ``workers`` threads (``REPAYMENT_AUTO_WORKERS``), each running the same
    ``repay_start`` as the borrower's own click (the conditional claim of the period keeps
    it to one repayment whatever runs beside it) and closing its database connections
    when done. Counts: ``started``; ``skipped`` (refused: balance, state, in flight …);
    ``errors`` (unexpected failures, logged with their traceback; the other loans go on).

    ``shard=(i, n)`` takes only the loans with ``project_id % n == i``: n processes (Celery
    tasks, see ``tasks.auto_repay``) each run one shard and together cover every loan once;
    a loan is always in the same shard, and the claim of its period keeps it to one
    repayment even if two runs overlap."""
    today = today or timezone.localdate()
    due = (RepaymentPlan.objects.filter(status__in=UNPAID, due_date__lte=today, repayment__isnull=True,
                                        project__status=lending_domain.REPAYING,
                                        borrower__depository_account__auth_list__contains=["REPAYMENT"])
           .order_by("project_id", "number").select_related("borrower", "project"))
    if shard is not None:
        index, count = shard
        if not 0 <= index < count:
            raise ValueError(f"shard {index} of {count}")
        if count > 1:
            due = due.alias(shard_of=Mod("project_id", count)).filter(shard_of=index)
    seen: set[int] = set()
    batch = []
    for plan in list(due):
        if plan.project_id in seen:  # one period per loan per run: the earliest
            continue
        seen.add(plan.project_id)
        batch.append(plan)
    counts = {"started": 0, "skipped": 0, "errors": 0}
    workers = min(auto_workers() if workers is None else max(1, workers), len(batch))
    if workers <= 1:
        for plan in batch:
            counts[_auto_repay_one(plan)] += 1
        return counts
    lock = threading.Lock()
    todo = iter(batch)

    def work() -> None:
        try:
            while True:
                with lock:
                    plan = next(todo, None)
                if plan is None:
                    return
                outcome = _auto_repay_one(plan)
                with lock:
                    counts[outcome] += 1
        finally:
            connections.close_all()  # this thread's connections (or back to the pool)

    threads = [threading.Thread(target=work, name=f"auto-repay-{n}", daemon=True) for n in range(workers)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return counts


def _auto_repay_one(plan: RepaymentPlan) -> str:
    try:
        repay_start(borrower=plan.borrower, plan_id=plan.pk, auto=True, plan=plan)
    except WanxinError as exc:
        log.info("automatic repayment of period %s skipped: %s", plan.pk, exc.message)
        return "skipped"
    except Exception:
        log.exception("automatic repayment of period %s failed", plan.pk)
        return "errors"
    return "started"


def remind(*, today: dt.date | None = None) -> int:
    """SMS every borrower whose period falls due tomorrow, once per period."""
    today = today or timezone.localdate()
    sent = 0
    plans = (RepaymentPlan.objects.filter(status=DUE, due_date=today + dt.timedelta(days=1), reminded_on__isnull=True)
             .select_related("borrower", "project"))
    for plan in list(plans):
        with transaction.atomic():
            if not RepaymentPlan.objects.filter(pk=plan.pk, reminded_on__isnull=True).update(reminded_on=today):
                continue
            lending._sms_after_commit(
                plan.borrower.mobile, "repayment_reminder",
                f"Loan {plan.project.project_no}: period {plan.number} of {format_fen(plan.principal + plan.interest)} "
                f"is due on {plan.due_date:%Y-%m-%d}. Keep the amount in your depository account.")
            sent += 1
    return sent


def overdue_mark(*, today: dt.date | None = None) -> dict[str, int]:
    """The nightly job, set-based: unpaid periods past due + grace days become OVERDUE (one
    UPDATE; their receivables follow in one more), then every overdue period's penalty is
    recomputed to date in one UPDATE: ``round_half_up((principal + interest) × daily rate ×
    days since due)`` (PostgreSQL ROUND on a non-negative numeric rounds half up), exactly
    ``domain.penalty``. A period with a repayment in flight keeps the penalty it froze."""
    today = today or timezone.localdate()
    cutoff = today - dt.timedelta(days=grace_days())
    plan_table, recv_table = RepaymentPlan._meta.db_table, ReceivablePlan._meta.db_table
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(f"UPDATE {plan_table} SET status = %s WHERE status = %s AND due_date < %s",  # noqa: S608
                       [OVERDUE, DUE, cutoff])
        marked = cursor.rowcount
        cursor.execute(f"UPDATE {recv_table} r SET status = %s FROM {plan_table} p "  # noqa: S608
                       "WHERE r.plan_id = p.id AND r.status = %s AND p.status = %s", [OVERDUE, DUE, OVERDUE])
        cursor.execute(
            f"UPDATE {plan_table} SET penalty = ROUND((principal + interest)::numeric * %s::numeric "  # noqa: S608
            "* (%s::date - due_date)) WHERE status = %s AND repayment_id IS NULL AND due_date < %s::date "
            "AND penalty <> ROUND((principal + interest)::numeric * %s::numeric * (%s::date - due_date))",
            [penalty_daily_rate(), today, OVERDUE, today, penalty_daily_rate(), today])
        accrued = cursor.rowcount
    return {"overdue": marked, "accrued": accrued}
