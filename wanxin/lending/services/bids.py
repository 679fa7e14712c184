"""Investing: the bid rules, and a tender reserved on the loan with one conditional UPDATE
and frozen at the bank (USER_PRE_TRANSACTION, bizType TENDER) through the depository outbox:
sent in a BATCH by an outbox sender once committed, so the investor is answered at once
("confirming"). ``results`` settles it: frozen ("confirmed"), or refused by the bank and its
reservation released.

A bid is one read of the loan, then one transaction: the idempotency key, the account under
its lock, the live sum, the risk check (its log row commits with the bid, or is written again
after a rollback), the tender, its freeze record and the loan's UPDATE."""

from __future__ import annotations

import logging

from django.db import DatabaseError, transaction
from django.db.models import F, Q, Sum
from django.utils import timezone
from django.utils.translation import gettext as _

from wanxin.audit.guards import customer_require
from wanxin.core.errors import Conflict, NotFound
from wanxin.core.ids import new_request_no
from wanxin.core.money import format_fen
from wanxin.depository import idempotency, outbox
from wanxin.depository import services as depository
from wanxin.funds import locks as funds_locks
from wanxin.funds.models import DepositoryAccount
from wanxin.risk import services as risk

from .. import domain, selectors
from ..models import Project, Tender
from .transitions import rule_invalid

log = logging.getLogger(__name__)


def _investor_account(investor) -> DepositoryAccount:
    return _usable(DepositoryAccount.objects.filter(user=investor).first())


def _usable(account: DepositoryAccount | None) -> DepositoryAccount:
    if account is None or not account.is_open:
        raise Conflict(_("Open your depository account first."), code="no_account")
    if "TENDER" not in (account.auth_list or []):
        raise Conflict(_("Authorise investing (TENDER) at the bank first."), code="not_authorised")
    return account


def _bid_rules(project: Project, investor, *, live: int | None = None) -> domain.BidRules:
    return domain.BidRules(amount=project.amount, raised=project.raised, min_investment=project.min_investment,
                           increment=project.increment, per_investor_cap=project.per_investor_cap,
                           investor_live=_live_sum(project, investor) if live is None else live)


def _investable(project: Project | None, investor) -> Project:
    if project is None or project.status not in domain.PUBLIC_STATUSES:
        raise NotFound(_("No such loan."), code="not_found")
    if project.borrower_id == investor.pk:
        raise Conflict(_("You cannot invest in your own loan."), code="own_loan")
    if project.status != domain.COLLECTING:
        raise Conflict(_("This loan is not collecting investments."), code="not_collecting")
    if project.collect_until and project.collect_until <= timezone.now():
        raise Conflict(_("This loan's fundraising window has closed."), code="window_closed")
    return project


def tender_check(*, investor, project_id: int, amount: object) -> Project:
    """The bid rules without reserving anything (the confirmation page)."""
    customer_require(investor)
    project = _investable(Project.objects.filter(pk=project_id).first(), investor)
    _investor_account(investor)
    try:
        domain.check_bid(amount, _bid_rules(project, investor))
    except domain.RuleError as exc:
        raise rule_invalid(exc) from exc
    return project


def _bid_prepare(investor, project_id: int) -> Project:
    """What is checked before the transaction: the customer and the loan as it is (one
    statement). The account and the risk rules are checked in the transaction (``_bid_reserve``)."""
    customer_require(investor)
    return _investable(Project.objects.filter(pk=project_id).first(), investor)


def _live_sum(project: Project, investor) -> int:
    return (Tender.objects.filter(project=project, investor=investor, status__in=domain.LIVE_TENDER_STATUSES)
            .aggregate(s=Sum("amount"))["s"] or 0)


def _bid_reserve(investor, project: Project, amount: object, checked: list) -> Tender:
    """Check and reserve the bid on the loan and record its tender and freeze; call in a
    transaction. The account, the investor's live sum, the risk rules (their reads and logged
    check, appended to ``checked``: the caller logs it again if the transaction rolls back),
    two INSERTs, the loan's UPDATE.

    The investor's account row (read and locked in one statement) serialises their own bids
    (the per-investor cap and the risk rules' holding, from their live sum read under that
    lock). The loan as read just before the transaction gives the bid rules; its counter is then moved by one conditional
    UPDATE that checks status, window and what remains on the locked row itself, so the loan
    can never be over-subscribed (the hot-counter exception to the lock order,
    docs/decisions/0003). A loan changed in between refuses the bid with what remains now."""
    account = _usable(funds_locks.account_of_user_hold(investor))
    live = _live_sum(project, investor)
    checked.append(risk.rules_check(kind="BID", subject=investor, account=account,  # risk rules (wanxin.risk)
                                    figures=selectors.risk_figures_bid(project, amount, holding=live)))
    # Committed, the check's row is logged with the bid: an error after the COMMIT (an on-commit
    # callback's) must not log it again. Registered first, this runs before any other callback.
    transaction.on_commit(checked.clear)
    checked[-1].raise_if_blocked()
    try:
        bid = domain.check_bid(amount, _bid_rules(project, investor, live=live))
    except domain.RuleError as exc:
        raise rule_invalid(exc) from exc
    tender = Tender.objects.create(project=project, investor=investor, amount=bid, request_no=new_request_no("WXT"))
    record = depository.request_create(service_name="USER_PRE_TRANSACTION", payload={
        "userNo": account.user_no, "bizType": "TENDER", "amount": bid, "projectNo": project.project_no,
        "remark": f"tender {project.project_no}"}, owner=tender, user_no=account.user_no, amount=bid,
        request_no=tender.request_no, outbox=True)
    # The loan's row last: every bid waits on it, so it is held only from this UPDATE to the
    # commit. Refused, the tender and its record above roll back with the transaction.
    reserved = Project.objects.filter(
        Q(raised=F("amount") - bid) | Q(raised__lte=F("amount") - bid - F("min_investment")),
        pk=project.pk, status=domain.COLLECTING, collect_until__gt=timezone.now(),
    ).update(raised=F("raised") + bid, updated_at=timezone.now())
    if reserved != 1:
        project.refresh_from_db(fields=["raised", "status", "collect_until"])
        if project.status != domain.COLLECTING or project.collect_until <= timezone.now():
            raise Conflict(_("This loan is not collecting investments any more."), code="not_collecting")
        raise Conflict(_("Other investors were faster: %(remaining)s remains now.")
                       % {"remaining": format_fen(project.remaining)},
                       code="remaining")
    # Answered at once ("confirming"); the freeze's answer confirms or releases it.
    outbox.request_send_soon(record)
    return tender


def _as_now(tender: Tender) -> Tender:
    """The tender as the investor is answered: sent after commit in this thread (tests), the
    bank's answer is already applied; left to the outbox senders, it is as committed."""
    if not outbox.sends_later():
        tender.refresh_from_db(fields=["status", "fail_reason", "updated_at"])
    return tender


def _logged(checked: list) -> None:
    """The transaction rolled back with the risk check's row: log it on its own (if the
    database cannot take it either, the bid's own error is the one raised)."""
    for result in checked:
        try:
            result.log_again()
        except DatabaseError:
            log.exception("the risk check of a refused bid could not be logged again")


def tender_place(*, investor, project_id: int, amount: object) -> Tender:
    """Check the bid, reserve ``amount`` on the loan, record the tender and its
    USER_PRE_TRANSACTION (TENDER freeze) in one transaction; the outbox sends it once committed."""
    project = _bid_prepare(investor, project_id)
    checked: list = []
    try:
        with transaction.atomic():
            tender = _bid_reserve(investor, project, amount, checked)
    except BaseException:
        _logged(checked)
        raise
    return _as_now(tender)


def tender_place_once(*, investor, project_id: int, amount: object, token: str) -> Tender:
    """``tender_place`` at most once per (investor, form token or Idempotency-Key): a
    double-clicked submit or a resent API call gets the first tender back, even after a crash
    (the key is committed with the tender, ``depository.idempotency``); the same key with
    another loan or amount is refused."""
    checked: list = []
    try:
        placed = idempotency.submit_once(
            user=investor, scope="lending.bid", key=token, request={"project": project_id, "amount": amount},
            model=Tender, prepare=lambda: _bid_prepare(investor, project_id),
            create=lambda project: _reserve_in_transaction(investor, project, amount, checked))
    except BaseException:
        _logged(checked)
        raise
    return _as_now(placed)


def _reserve_in_transaction(investor, project: Project, amount: object, checked: list) -> Tender:
    with transaction.atomic(savepoint=False):  # the helper's transaction, or one of its own
        return _bid_reserve(investor, project, amount, checked)
