"""Starting a repayment: one period (``repay_start``) or the whole outstanding principal
(``prepay_start``), split among investors up front, frozen at the bank
(USER_PRE_TRANSACTION, bizType REPAYMENT); ``repayments.results`` settles it."""

from __future__ import annotations

import datetime as dt
from collections import defaultdict

from django.db import transaction
from django.db.models import F
from django.utils import timezone
from django.utils.translation import gettext as _

from wanxin.audit.guards import customer_require
from wanxin.core.errors import Conflict, NotFound, WanxinError
from wanxin.core.ids import new_request_no
from wanxin.core.money import allocate, format_fen
from wanxin.depository import services as depository
from wanxin.funds.models import DepositoryAccount
from wanxin.lending import domain as lending_domain
from wanxin.lending.models import Project

from .. import domain, locks
from ..models import OVERDUE, PERIOD, PREPAY, REPAID, ReceivablePlan, Repayment, RepaymentPlan
from .transitions import UNPAID, prepayment_fee_rate


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
    repayment = Repayment.objects.create(
        project=project, borrower=borrower, kind=kind, auto=auto, request_no=new_request_no("WXR"),
        principal=principal, interest=interest, penalty=penalty, fee=fee, commission=commission, total=total,
        details=details)
    record = depository.request_create(service_name="USER_PRE_TRANSACTION", payload={
        "userNo": account.user_no, "bizType": "REPAYMENT", "amount": total, "projectNo": project.project_no,
        "remark": f"repayment {project.project_no}"}, owner=repayment, user_no=account.user_no, amount=total,
        request_no=repayment.request_no)
    claimed = RepaymentPlan.objects.filter(pk__in=[p.pk for p in plans], status__in=UNPAID,
                                           repayment__isnull=True).update(repayment=repayment)
    if claimed != len(plans):
        raise Conflict(_("This period is already being repaid; please wait for the bank's answer."),
                       code="in_progress")
    depository.request_send_on_commit(record)
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
    customer_require(borrower)
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
        plan = _unclaimed(locks.plan_lock(plan.pk))
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
    customer_require(borrower)
    project = Project.objects.filter(pk=project_id, borrower_id=borrower.pk).first()
    if project is None:
        raise NotFound(_("No such loan."), code="not_found")
    _repaying(project)
    if RepaymentPlan.objects.filter(project=project, repayment__isnull=False, status__in=UNPAID).exists():
        raise Conflict(_("A repayment of this loan is in progress; please wait for the bank's answer."),
                       code="in_progress")
    with transaction.atomic():
        locks.plans_lock(project=project)
        quote = prepay_quote(project=project, today=today)
        return _start(borrower=borrower, project=project, plans=quote["plans"], kind=PREPAY,
                      principal=quote["principal"], interest=quote["interest"], penalty=0, fee=quote["fee"],
                      commission=quote["commission"], details=_investor_details(quote["parts"]), auto=False)
