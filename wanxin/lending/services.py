"""Every write of lending: applications, review, bids, miscarry and disbursement, and the
result handlers that settle them when the bank answers (DESIGN §5).

Each business change and its ``DepositoryRequest`` commit together; the request is sent
after the commit (``transaction.on_commit``); its result is applied once by
``depository.result_apply``, which runs the handlers below in its transaction.

Lock order, everywhere: depository request → tender → depository account → project.
A bid locks the investor's account (the per-investor cap) and then reserves on the project
with one conditional UPDATE; a result handler locks its tender, moves the account mirror
(``fund_events_apply``), then updates the project. Miscarry locks only the project, and
issues refunds tender by tender in their own transactions.
"""

from __future__ import annotations

import datetime as dt
import logging
import secrets
from dataclasses import dataclass
from decimal import Decimal

from django.core.cache import cache
from django.db import IntegrityError, connection, transaction
from django.db.models import F, Q, Sum
from django.utils import timezone
from django.utils.translation import gettext as _

from wanxin.backoffice import roles
from wanxin.backoffice.duties import checker_independence_require
from wanxin.backoffice.services import Forbidden, audit_record
from wanxin.core.errors import Conflict, NotFound, WanxinError
from wanxin.core.ids import new_request_no
from wanxin.core.money import format_fen
from wanxin.depository import services as depository
from wanxin.depository.models import DepositoryRequest
from wanxin.funds.domain import MoneyEvent
from wanxin.funds.models import DepositoryAccount
from wanxin.funds.services import FundEvents, fund_events_apply, fund_events_apply_many
from wanxin.kyc.selectors import approved_credit
from wanxin.notifications.services import sms_send
from wanxin.risk import services as risk

from . import domain, selectors
from .models import Disbursement, LoanApplication, Project, Tender

log = logging.getLogger("wanxin.lending")
SUBMIT_TOKEN_TTL = 600


class Invalid(WanxinError):
    """A refusal about one input; ``code`` names the field."""


def _invalid(exc: domain.RuleError) -> Invalid:
    """The domain's refusal in the reader's language (its template is in the catalogue)."""
    return Invalid(_(exc.template) % exc.params if exc.params else _(exc.template), code=exc.field or "invalid")


def _require(actor, codename: str) -> None:
    if actor is None or not (getattr(actor, "is_operator", False) and actor.is_active
                             and actor.has_perm(roles.perm(codename))):
        raise Forbidden(_("You do not have permission to do this."), code="forbidden")


def _customer(user) -> None:
    if user is None or not user.is_authenticated or not getattr(user, "is_customer", False):
        raise WanxinError(_("Only customers can do this."), code="not_customer", status=403)


def _send_after_commit(record: DepositoryRequest) -> None:
    def send() -> None:
        try:
            depository.request_send(record=record)
        except Exception:  # the recovery job looks it up
            log.exception("sending %s failed; recovery will look it up", record.request_no)

    transaction.on_commit(send)


def _sms_after_commit(mobile: str | None, purpose: str, text: str) -> None:
    def send() -> None:
        try:
            sms_send(mobile=mobile or "", purpose=purpose, text=text)
        except WanxinError as exc:
            log.warning("SMS %s to %s not sent: %s", purpose, mobile, exc.message)

    if mobile:
        transaction.on_commit(send)


def _move(project: Project, new: str, **fields) -> None:
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


def _tender_move(tender: Tender, new: str, **fields) -> None:
    domain.check_move(domain.TENDER_MOVES, tender.status, new)
    updated = Tender.objects.filter(pk=tender.pk, status=tender.status).update(status=new, **fields)
    if updated != 1:  # pragma: no cover - callers hold the tender's row lock
        raise Conflict(_("The tender changed meanwhile."), code="changed")
    tender.status = new


def _modify_project(project: Project, status: str) -> DepositoryRequest:
    record = depository.request_create(service_name="MODIFY_PROJECT",
                                       payload={"projectNo": project.project_no, "status": status},
                                       prefix="WXM")
    _send_after_commit(record)
    return record


def _state(project: Project) -> dict:
    return {"status": project.status, "raised": project.raised, "amount": project.amount}


# -- application ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class ApplicationInput:
    amount: object
    months: object
    method: str
    purpose: str
    description: str = ""


def application_submit(*, borrower, data: ApplicationInput) -> Project:
    """A borrower's loan application: a project waiting for review."""
    _customer(borrower)
    credit = approved_credit(borrower.pk)
    if credit is None:
        raise Conflict(_("Your qualifications (KYC) must be approved before you can borrow."), code="no_kyc")
    if credit[0] == "HR":  # the risk rule that exists: the KYC rating
        raise Conflict(_("Your credit rating does not allow borrowing at present."), code="high_risk")
    account = DepositoryAccount.objects.filter(user=borrower).first()
    if account is None or not account.is_open:
        raise Conflict(_("Open your depository account first."), code="no_account")
    product = selectors.product_default()
    if selectors.open_project_of(borrower) is not None:
        raise Conflict(_("You already have an open loan application."), code="already_open")
    try:
        domain.check_application(amount=data.amount, months=data.months, method=data.method,
                                 purpose=data.purpose or "", description=data.description or "",
                                 limits=product.limits(), credit_limit=credit[1],
                                 in_use=selectors.credit_in_use(borrower))
    except domain.RuleError as exc:
        raise _invalid(exc) from exc
    risk.rules_check(kind="LOAN_APPLICATION", subject=borrower, figures=selectors.risk_figures_application(borrower, data.amount)).raise_if_blocked()  # risk rules (wanxin.risk)
    purpose, description = data.purpose.strip(), (data.description or "").strip()
    try:
        with transaction.atomic():
            application = LoanApplication.objects.create(
                borrower=borrower, product=product, amount=data.amount, months=data.months, method=data.method,
                purpose=purpose, description=description)
            project = Project.objects.create(
                application=application, borrower=borrower,
                project_no=f"P{timezone.now():%Y%m%d}{secrets.token_hex(5).upper()}",
                name=f"{purpose[:60]} · {format_fen(data.amount)} · {data.months} months",
                description=description, amount=data.amount, months=data.months, method=data.method,
                status=domain.DRAFT)
            _move(project, domain.PENDING_REVIEW)
    except IntegrityError as exc:  # a concurrent application of the same borrower won
        raise Conflict(_("You already have an open loan application."), code="already_open") from exc
    return project


# -- review ----------------------------------------------------------------------------------------


def _locked(project_id: int) -> Project:
    project = Project.objects.select_for_update().filter(pk=project_id).first()
    if project is None:
        raise NotFound(_("No such loan."), code="not_found")
    return project


def project_approve(*, operator, project_id: int, terms: domain.Terms) -> Project:
    """Approve with terms: the project is registered at the bank (CREATE_PROJECT) and
    becomes COLLECTING when the bank says SUCCESS."""
    _require(operator, "review_loans")
    with transaction.atomic():
        project = _locked(project_id)
        if project.status != domain.PENDING_REVIEW or project.create_request_no:
            raise Conflict(_("Only a loan waiting for review can be approved."), code="bad_status")
        try:
            domain.check_terms(terms, amount=project.amount)
        except domain.RuleError as exc:
            raise _invalid(exc) from exc
        before = _state(project)
        borrower_no = DepositoryAccount.objects.filter(user_id=project.borrower_id, status="OPEN").values_list(
            "user_no", flat=True).first()
        if borrower_no is None:
            raise Conflict(_("The borrower has no open depository account."), code="no_account")
        record = depository.request_create(service_name="CREATE_PROJECT", payload={
            "projectNo": project.project_no, "borrowerUserNo": borrower_no, "amount": project.amount,
            "annualRate": f"{terms.borrower_rate:.6f}", "periods": project.months,
            "repaymentMethod": project.method, "name": project.name[:100]}, prefix="WXP")
        fields = {k: getattr(terms, k) for k in ("borrower_rate", "investor_rate", "service_fee_rate", "window_days",
                                                  "min_investment", "increment", "per_investor_cap")}
        Project.objects.filter(pk=project.pk).update(
            **fields, reviewed_by=operator, reviewed_at=timezone.now(), create_request_no=record.request_no,
            bank_error="")
        audit_record(actor=operator, action="loan.approve", target=project, before=before,
                     after={**before, **{k: str(v) for k, v in fields.items()}, "request_no": record.request_no})
        _send_after_commit(record)
    project.refresh_from_db()
    return project


def project_reject(*, operator, project_id: int, reason: str) -> Project:
    _require(operator, "review_loans")
    reason = " ".join((reason or "").split())
    if not reason or len(reason) > 300:
        raise Invalid(_("Give the borrower a reason (at most 300 characters)."), code="reason")
    with transaction.atomic():
        project = _locked(project_id)
        if project.create_request_no:
            raise Conflict(_("This loan was approved and is being registered at the bank."), code="bad_status")
        before = _state(project)
        _move(project, domain.REJECTED, review_reason=reason, reviewed_by=operator, reviewed_at=timezone.now())
        audit_record(actor=operator, action="loan.reject", target=project, before=before,
                     after={**_state(project), "reason": reason})
        _sms_after_commit(project.borrower.mobile, "loan_rejected",
                          f"Your loan application {project.project_no} was not approved: {reason}")
    return project


@depository.result_handler("CREATE_PROJECT")
def _on_create_project(record: DepositoryRequest) -> None:
    project = Project.objects.select_for_update().filter(create_request_no=record.request_no).first()
    if project is None or project.status != domain.PENDING_REVIEW:
        return
    if record.status == DepositoryRequest.Status.SUCCESS:
        now = timezone.now()
        _move(project, domain.COLLECTING, bank_status=domain.COLLECTING, published_at=now,
              collect_until=now + dt.timedelta(days=project.window_days or 1))
    else:  # back to the reviewer, who may approve again
        Project.objects.filter(pk=project.pk).update(
            create_request_no="", bank_error=f"{record.resp_msg} ({record.resp_code})"[:300])


_BANK_EARLIER = {
    domain.FULL: (domain.COLLECTING,),
    domain.REPAYING: (domain.COLLECTING, domain.FULL),
    domain.FINISHED: (domain.COLLECTING, domain.FULL, domain.REPAYING),
    domain.MISCARRIED: (domain.COLLECTING, domain.FULL),
}


@depository.result_handler("MODIFY_PROJECT")
def _on_modify_project(record: DepositoryRequest) -> None:
    if record.status == DepositoryRequest.Status.SUCCESS:
        # Results may be applied out of order (recovery): the bank's status only moves forward.
        new = record.payload["status"]
        Project.objects.filter(project_no=record.payload["projectNo"],
                               bank_status__in=_BANK_EARLIER.get(new, ())).update(bank_status=new)
    else:
        log.error("MODIFY_PROJECT %s refused: %s %s", record.request_no, record.resp_code, record.resp_msg)
        Project.objects.filter(project_no=record.payload["projectNo"]).update(
            bank_error=f"{record.payload['status']}: {record.resp_msg} ({record.resp_code})"[:300])


# -- investing ---------------------------------------------------------------------------------------


def _investor_account(investor) -> DepositoryAccount:
    account = DepositoryAccount.objects.filter(user=investor).first()
    if account is None or not account.is_open:
        raise Conflict(_("Open your depository account first."), code="no_account")
    if "TENDER" not in (account.auth_list or []):
        raise Conflict(_("Authorise investing (TENDER) at the bank first."), code="not_authorised")
    return account


def _bid_rules(project: Project, investor) -> domain.BidRules:
    live = (Tender.objects.filter(project=project, investor=investor, status__in=domain.LIVE_TENDER_STATUSES)
            .aggregate(s=Sum("amount"))["s"] or 0)
    return domain.BidRules(amount=project.amount, raised=project.raised, min_investment=project.min_investment,
                           increment=project.increment, per_investor_cap=project.per_investor_cap,
                           investor_live=live)


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
    _customer(investor)
    project = _investable(Project.objects.filter(pk=project_id).first(), investor)
    _investor_account(investor)
    try:
        domain.check_bid(amount, _bid_rules(project, investor))
    except domain.RuleError as exc:
        raise _invalid(exc) from exc
    return project


def tender_place(*, investor, project_id: int, amount: object) -> Tender:
    """Reserve ``amount`` on the loan with one conditional UPDATE, record the tender and its
    USER_PRE_TRANSACTION (TENDER freeze), and send it after the commit. The loan can never be
    over-subscribed: the UPDATE's condition is checked on the locked row."""
    _customer(investor)
    project = _investable(Project.objects.filter(pk=project_id).first(), investor)
    account = _investor_account(investor)
    risk.rules_check(kind="BID", subject=investor, figures=selectors.risk_figures_bid(project, investor, amount)).raise_if_blocked()  # risk rules (wanxin.risk)
    with transaction.atomic():
        # The investor's account row serialises their own bids (the per-investor cap).
        DepositoryAccount.objects.select_for_update().filter(pk=account.pk).values_list("pk").first()
        project.refresh_from_db(fields=["raised", "status"])
        try:
            bid = domain.check_bid(amount, _bid_rules(project, investor))
        except domain.RuleError as exc:
            raise _invalid(exc) from exc
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
        record = depository.request_create(service_name="USER_PRE_TRANSACTION", payload={
            "userNo": account.user_no, "bizType": "TENDER", "amount": bid, "projectNo": project.project_no,
            "remark": f"tender {project.project_no}"}, user_no=account.user_no, amount=bid, prefix="WXT")
        tender = Tender.objects.create(project=project, investor=investor, amount=bid, request_no=record.request_no)
        _send_after_commit(record)
    return tender


def tender_place_once(*, investor, project_id: int, amount: object, token: str) -> Tender:
    """``tender_place`` at most once per (investor, form token or Idempotency-Key): a
    double-clicked submit or a resent API call gets the first tender back."""
    if not token:
        return tender_place(investor=investor, project_id=project_id, amount=amount)
    if len(token) > 64:
        raise Invalid(_("The idempotency key has at most 64 characters."), code="token")
    key = f"wx:lending:bid:{connection.settings_dict['NAME']}:{investor.pk}:{investor.user_no}:{token}"
    if not cache.add(key, 0, SUBMIT_TOKEN_TTL):
        pk = cache.get(key)
        tender = Tender.objects.filter(pk=pk, investor=investor).first() if pk else None
        if tender is None:
            raise Conflict(_("This form was already sent; please wait a moment."), code="duplicate")
        return tender
    try:
        tender = tender_place(investor=investor, project_id=project_id, amount=amount)
    except Exception:
        cache.delete(key)
        raise
    cache.set(key, tender.pk, SUBMIT_TOKEN_TTL)
    return tender


@depository.result_handler("USER_PRE_TRANSACTION")
def _on_tender_freeze(record: DepositoryRequest) -> None:
    tender = Tender.objects.select_for_update().filter(request_no=record.request_no).first()
    if tender is None or tender.status != domain.T_PENDING:
        return  # not a tender (repayment freezes are settled elsewhere)
    if record.status != DepositoryRequest.Status.SUCCESS:
        _tender_move(tender, domain.T_FAILED, fail_reason=f"{record.resp_msg} ({record.resp_code})"[:300])
        # Release the reservation: exactly once, because a record is settled once.
        Project.objects.filter(pk=tender.project_id, raised__gte=tender.amount).update(
            raised=F("raised") - tender.amount, updated_at=timezone.now())
        return
    _tender_move(tender, domain.T_FROZEN)
    fund_events_apply(user_no=record.user_no, request_no=record.request_no, events=[
        MoneyEvent("FREEZE", -tender.amount, -tender.amount, tender.amount, remark="investment frozen")])
    project = _frozen_add(tender.project_id, tender.amount)
    if project.status == domain.COLLECTING and project.frozen_amount == project.amount:
        _move(project, domain.FULL, full_at=timezone.now())
        _modify_project(project, domain.FULL)
    elif project.status == domain.MISCARRIED:
        _refund_issue(tender)


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


# -- miscarry --------------------------------------------------------------------------------------------


def _refund_issue(tender: Tender) -> bool:
    """Record the CANCEL_PRE_TRANSACTION of a frozen tender once (conditional UPDATE) and
    send it after the commit. Returns False when it was already issued."""
    request_no = new_request_no("WXU")
    if not Tender.objects.filter(pk=tender.pk, status=domain.T_FROZEN, cancel_request_no="").update(
            cancel_request_no=request_no):
        return False
    record = DepositoryRequest.objects.create(
        request_no=request_no, service_name="CANCEL_PRE_TRANSACTION", payload={"preRequestNo": tender.request_no},
        user_no=selectors.user_no_of(tender.investor_id), amount=tender.amount)
    _send_after_commit(record)
    return True


def refunds_issue(*, project_id: int) -> int:
    """Unfreeze every frozen tender of a miscarried loan not yet asked for (resumable)."""
    issued = 0
    ids = list(Tender.objects.filter(project_id=project_id, project__status=domain.MISCARRIED,
                                     status=domain.T_FROZEN, cancel_request_no="").values_list("pk", flat=True))
    for pk in ids:
        with transaction.atomic():
            tender = Tender.objects.select_for_update().filter(pk=pk).first()
            if tender is not None and _refund_issue(tender):
                issued += 1
    return issued


def project_miscarry(*, operator=None, project_id: int, reason: str = "") -> Project:
    """Cancel a collecting (or full, not yet disbursed) loan: MISCARRIED here and at the
    bank, every frozen tender unfrozen, investors told. ``operator`` None is the window-close
    job, which only miscarries a collecting loan whose window closed unfilled."""
    if operator is not None:
        _require(operator, "review_loans")
        reason = " ".join((reason or "").split())
        if not reason or len(reason) > 300:
            raise Invalid(_("Say why the loan is cancelled (at most 300 characters)."), code="reason")
    with transaction.atomic():
        project = _locked(project_id)
        if operator is None:
            if (project.status != domain.COLLECTING or project.collect_until is None
                    or project.collect_until > timezone.now() or project.raised >= project.amount):
                raise Conflict(_("This loan's window is still open or it is filled."), code="not_due")
            reason = "the fundraising window closed before the loan was filled"
        if Disbursement.objects.filter(project=project, status=Disbursement.Status.SENT).exists():
            raise Conflict(_("The disbursement is at the bank; the loan cannot be cancelled now."), code="disbursing")
        before = _state(project)
        _move(project, domain.MISCARRIED, miscarried_at=timezone.now(), miscarry_reason=reason)
        Disbursement.objects.filter(project=project, status=Disbursement.Status.PROPOSED).update(
            status=Disbursement.Status.CANCELLED, decided_at=timezone.now(), note="loan cancelled")
        _modify_project(project, domain.MISCARRIED)
        if operator is not None:
            audit_record(actor=operator, action="loan.miscarry", target=project, before=before,
                         after={**_state(project), "reason": reason})
        mobiles = (Tender.objects.filter(project=project, status__in=[domain.T_PENDING, domain.T_FROZEN])
                   .values_list("investor__mobile", flat=True).distinct())
        for mobile in mobiles:
            _sms_after_commit(mobile, "loan_miscarried",
                              f"Loan {project.project_no} was cancelled ({reason[:60]}); your investment "
                              "is being unfrozen.")
    refunds_issue(project_id=project.pk)
    return project


def miscarry_due(*, now: dt.datetime | None = None) -> dict[str, int]:
    """The job: miscarry every collecting loan whose window closed unfilled, and resume
    the refunds of miscarried loans (idempotent)."""
    now = now or timezone.now()
    counts = {"miscarried": 0, "refunds": 0}
    due = Project.objects.filter(status=domain.COLLECTING, collect_until__lte=now,
                                 raised__lt=F("amount")).values_list("pk", flat=True)
    for pk in list(due):
        try:
            project_miscarry(project_id=pk)
            counts["miscarried"] += 1
        except Conflict:
            pass
    resume = (Tender.objects.filter(project__status=domain.MISCARRIED, status=domain.T_FROZEN, cancel_request_no="")
              .values_list("project_id", flat=True).distinct())
    for pk in list(resume):
        counts["refunds"] += refunds_issue(project_id=pk)
    return counts


@depository.result_handler("CANCEL_PRE_TRANSACTION")
def _on_tender_cancel(record: DepositoryRequest) -> None:
    tender = Tender.objects.select_for_update().filter(cancel_request_no=record.request_no).first()
    if tender is None or tender.status != domain.T_FROZEN:
        return
    if record.status != DepositoryRequest.Status.SUCCESS:
        log.error("unfreezing tender %s refused: %s %s (listed at /loans/review/releases to retry)", tender.pk,
                  record.resp_code, record.resp_msg)
        return
    _tender_move(tender, domain.T_REFUNDED)
    fund_events_apply(user_no=record.user_no, request_no=record.request_no, events=[
        MoneyEvent("UNFREEZE", tender.amount, tender.amount, -tender.amount, remark="loan cancelled")])


def release_reissue(owner, *, operator, action: str, pre_request_no: str, amount: int) -> DepositoryRequest:
    """Ask the bank again to release a freeze after it refused the owner's (a tender's or a
    repayment's) CANCEL_PRE_TRANSACTION: a new request with a new requestNo, only while the
    previous one stands refused; the owner is re-linked, the operator's action audited, and
    the request sent after the commit. Call with the owner's row locked."""
    refused = depository.refused_request(owner.cancel_request_no)
    record = depository.request_create(service_name="CANCEL_PRE_TRANSACTION", payload={"preRequestNo": pre_request_no},
                                       user_no=refused.user_no, amount=amount, prefix="WXU")
    type(owner).objects.filter(pk=owner.pk).update(cancel_request_no=record.request_no)
    owner.cancel_request_no = record.request_no
    audit_record(actor=operator, action=action, target=owner,
                 before={"cancel_request_no": refused.request_no, "refused": refused.resp_code},
                 after={"cancel_request_no": record.request_no})
    _send_after_commit(record)
    return record


def tender_release_retry(*, operator, tender_id: int) -> Tender:
    """Ask the bank again to unfreeze a cancelled loan's tender after it refused the first
    CANCEL_PRE_TRANSACTION (the tender stays FROZEN, the investor's money held, until the
    bank releases it). A finance officer's action, audited."""
    _require(operator, "approve_disbursement")
    with transaction.atomic():
        tender = Tender.objects.select_for_update().filter(pk=tender_id).first()
        if tender is None:
            raise NotFound(_("No such tender."), code="not_found")
        if tender.status != domain.T_FROZEN or not tender.cancel_request_no:
            raise Conflict(_("Only a tender whose unfreeze the bank refused can be retried."), code="bad_status")
        release_reissue(tender, operator=operator, action="tender.release_retry", pre_request_no=tender.request_no,
                        amount=tender.amount)
    return tender


# -- disbursement (maker-checker) -------------------------------------------------------------------------


def disbursement_propose(*, operator, project_id: int) -> Disbursement:
    """The maker: a loan reviewer proposes paying out a full loan."""
    _require(operator, "review_loans")
    with transaction.atomic():
        project = _locked(project_id)
        if project.status != domain.FULL:
            raise Conflict(_("Only a full loan can be disbursed."), code="bad_status")
        if project.bank_status != domain.FULL:
            raise Conflict(_("The bank has not confirmed the loan is full yet; try again shortly."), code="bank_pending")
        if Disbursement.objects.filter(project=project, status__in=["PROPOSED", "SENT", "DONE"]).exists():
            raise Conflict(_("A disbursement of this loan is already proposed."), code="duplicate")
        proposal = Disbursement.objects.create(
            project=project, proposed_by=operator,
            commission=domain.service_fee(project.amount, project.service_fee_rate or Decimal(0)))
        audit_record(actor=operator, action="loan.disbursement_propose", target=proposal, before=None,
                     after={"project": project.project_no, "commission": proposal.commission})
    return proposal


def _locked_proposal(disbursement_id: int) -> Disbursement:
    proposal = Disbursement.objects.select_for_update().filter(pk=disbursement_id).first()
    if proposal is None:
        raise NotFound(_("No such disbursement."), code="not_found")
    if proposal.status != Disbursement.Status.PROPOSED:
        raise Conflict(_("This disbursement is %(status)s.") % {"status": proposal.get_status_display()},
                       code="bad_status")
    return proposal


def disbursement_approve(*, operator, disbursement_id: int) -> Disbursement:
    """The checker: a finance officer who did not propose it approves; CONFIRM_LOAN pays the
    borrower from every tender freeze and takes the service fee."""
    _require(operator, "approve_disbursement")
    with transaction.atomic():
        project_id = Disbursement.objects.filter(pk=disbursement_id).values_list("project_id", flat=True).first()
        if project_id is None:
            raise NotFound(_("No such disbursement."), code="not_found")
        project = _locked(project_id)
        proposal = _locked_proposal(disbursement_id)
        # Not the maker, nor an operator the maker created or gave the finance role.
        checker_independence_require(maker_id=proposal.proposed_by_id, checker=operator,
                                     permission="approve_disbursement")
        if project.status != domain.FULL or project.bank_status != domain.FULL:
            raise Conflict(_("The loan is not full at the bank."), code="bad_status")
        tenders = list(Tender.objects.filter(project=project, status=domain.T_FROZEN).order_by("pk"))
        if sum(t.amount for t in tenders) != project.amount:
            raise Conflict(_("The frozen tenders do not add up to the loan."), code="mismatch")
        record = depository.request_create(service_name="CONFIRM_LOAN", payload={
            "projectNo": project.project_no, "commission": proposal.commission,
            "details": [{"preRequestNo": t.request_no, "amount": t.amount} for t in tenders]},
            user_no=selectors.user_no_of(project.borrower_id), amount=project.amount, prefix="WXL")
        Disbursement.objects.filter(pk=proposal.pk).update(status=Disbursement.Status.SENT, approved_by=operator,
                                                           decided_at=timezone.now(), request_no=record.request_no)
        audit_record(actor=operator, action="loan.disbursement_approve", target=proposal,
                     before={"status": "PROPOSED"}, after={"status": "SENT", "request_no": record.request_no})
        _send_after_commit(record)
    proposal.refresh_from_db()
    return proposal


def disbursement_reject(*, operator, disbursement_id: int, reason: str) -> Disbursement:
    _require(operator, "approve_disbursement")
    reason = " ".join((reason or "").split())
    if not reason or len(reason) > 300:
        raise Invalid(_("Give a reason (at most 300 characters)."), code="reason")
    with transaction.atomic():
        proposal = _locked_proposal(disbursement_id)
        checker_independence_require(maker_id=proposal.proposed_by_id, checker=operator,
                                     permission="approve_disbursement")
        Disbursement.objects.filter(pk=proposal.pk).update(status=Disbursement.Status.REJECTED, approved_by=operator,
                                                           decided_at=timezone.now(), note=reason)
        audit_record(actor=operator, action="loan.disbursement_reject", target=proposal,
                     before={"status": "PROPOSED"}, after={"status": "REJECTED", "reason": reason})
    proposal.refresh_from_db()
    return proposal


@depository.result_handler("CONFIRM_LOAN")
def _on_confirm_loan(record: DepositoryRequest) -> None:
    proposal = Disbursement.objects.select_for_update().filter(request_no=record.request_no).first()
    if proposal is None or proposal.status != Disbursement.Status.SENT:
        return
    if record.status != DepositoryRequest.Status.SUCCESS:
        Disbursement.objects.filter(pk=proposal.pk).update(
            status=Disbursement.Status.FAILED, note=f"{record.resp_msg} ({record.resp_code})"[:300])
        return
    Disbursement.objects.filter(pk=proposal.pk).update(status=Disbursement.Status.DONE)
    details = {d["preRequestNo"]: d["amount"] for d in record.payload["details"]}
    tenders = list(Tender.objects.select_for_update().filter(request_no__in=list(details)).order_by("pk"))
    user_nos = selectors.user_nos_of({tender.investor_id for tender in tenders})
    items = []
    for tender in tenders:
        _tender_move(tender, domain.T_LOANED)
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
    project = Project.objects.select_for_update().get(pk=proposal.project_id)
    _move(project, domain.REPAYING, loaned_at=timezone.now())
    # The repayment and receivable plans, in this same transaction (repayments imports lending).
    from wanxin.repayments.services import plans_generate

    plans_generate(project=project)
    _modify_project(project, domain.REPAYING)
