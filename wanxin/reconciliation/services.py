"""Writes of reconciliation: run a day against the bank's files, handle each difference
(re-query the bank and apply through the normal idempotent path, or explain it), close the
day. Every operator action is checked against its permission and audited."""

from __future__ import annotations

import datetime as dt
import logging
import time
from collections.abc import Iterable
from zoneinfo import ZoneInfo

from django.conf import settings
from django.db import transaction
from django.db.models import Sum
from django.utils import timezone
from django.utils.translation import gettext as _

from wanxin.accounts.models import User
from wanxin.audit.actions import AuditAction
from wanxin.audit.guards import SYSTEM, System, operator_or_system_require, operator_require
from wanxin.audit.log import audit_record
from wanxin.core.errors import Conflict, NotFound, WanxinError
from wanxin.depository import services as depository
from wanxin.depository.client import BankClient, BankUnavailable
from wanxin.depository.models import DepositoryRequest
from wanxin.protocol import codes
from wanxin.protocol.codes import ProtocolError

from . import allocations, domain, loading, matching
from .domain import FileRefused
from .models import Difference, ReconciliationDay

log = logging.getLogger("wanxin.reconciliation")

RUN = "run_reconciliation"
CLOSE = "close_reconciliation_day"


def day_bounds(day: dt.date) -> tuple[dt.datetime, dt.datetime]:
    """The bank's business day (Beijing time, PROTOCOL §5)."""
    start = dt.datetime.combine(day, dt.time.min, tzinfo=ZoneInfo(settings.TIME_ZONE))
    return start, start + dt.timedelta(days=1)


class _Clock:
    """Seconds per phase, for ``timings`` (the benchmark reports where the time goes)."""

    def __init__(self, into: dict[str, float] | None):
        self.into, self.last = into, time.perf_counter()

    def lap(self, phase: str) -> None:
        now = time.perf_counter()
        if self.into is not None:
            self.into[phase] = round(self.into.get(phase, 0.0) + now - self.last, 3)
        self.last = now


def _download(day: dt.date, kind: str, header: str, client: BankClient | None, clock: _Clock) -> domain.BankFile:
    try:
        answer = depository.statement_download(date=day.isoformat(), kind=kind, client=client)
        clock.lap(f"download {kind.lower()}")
    except BankUnavailable as exc:
        raise WanxinError(_("The bank did not answer; try again later."), code="bank_unavailable", status=503) from exc
    except ProtocolError as exc:
        raise WanxinError(_("The bank refused to send the file: %(msg)s") % {"msg": exc.message},
                          code="bank_refused", status=502) from exc
    try:
        verified = domain.verified_file(answer, header=header)
        clock.lap(f"verify {kind.lower()} (base64, sha256, header, rows)")
        return verified
    except FileRefused as exc:
        raise WanxinError(_("The bank's file was refused whole, nothing recorded: %(why)s") % {"why": exc},
                          code="file_refused", status=502) from exc


def _refuse_day(day: dt.date) -> None:
    if domain.day_refusal(day, today=timezone.localdate()):
        raise WanxinError(_("%(day)s is not a closed business day yet: the bank writes its files only for past "
                            "days.") % {"day": day.isoformat()}, code="future_day")
    if ReconciliationDay.objects.filter(date=day, status=ReconciliationDay.Status.CLOSED).exists():
        raise Conflict(_("%(day)s is already closed; a closed day is not reconciled again.") % {"day": day.isoformat()},
                       code="day_closed")


def day_reconcile(*, day: dt.date, actor: User | System, client: BankClient | None = None,
                  timings: dict[str, float] | None = None) -> ReconciliationDay:
    """Reconcile a past business day (again, if it is still open). Open differences of an
    earlier run are found afresh; differences already handled keep their handling. ``actor`` is
    a finance officer, or ``SYSTEM`` for the daily job and the command."""
    operator_or_system_require(actor, RUN)
    _refuse_day(day)
    clock = _Clock(timings)
    # Both files are downloaded and proved before anything is written.
    statement = _download(day, "TRANSACTIONS", domain.STATEMENT_HEADER, client, clock)
    balances = _download(day, "BALANCES", domain.BALANCE_HEADER, client, clock)
    start, end = day_bounds(day)
    try:
        with transaction.atomic():
            recon, _created = ReconciliationDay.objects.select_for_update().get_or_create(date=day)
            if recon.status == ReconciliationDay.Status.CLOSED:  # closed while we downloaded
                raise Conflict(_("%(day)s is already closed; a closed day is not reconciled again.")
                               % {"day": day.isoformat()}, code="day_closed")
            recon.differences.filter(status=Difference.Status.OPEN).delete()
            loading.statement_load(statement.content)
            clock.lap("load statement (COPY, row shapes)")
            counts = matching.transactions_match(recon.pk, start, end)
            clock.lap("match transactions, record differences")
            loading.balances_load(balances.content)
            matching.customer_balances_match(recon.pk, end)
            _platform_accounts_match(recon, end)
            clock.lap("balances")
            allocations.allocations_match(recon.pk, end)
            clock.lap("allocations")
            recon.statement_sha256, recon.statement_rows = statement.sha256, statement.rows
            recon.balances_sha256, recon.balance_rows = balances.sha256, balances.rows
            recon.matched, recon.runs, recon.last_run_at = counts.matched, recon.runs + 1, timezone.now()
            recon.save()
            audit_record(actor=actor, action=AuditAction.RECONCILIATION_RUN, target=recon, before=None,
                         after={"date": day.isoformat(), "matched": recon.matched,
                                "open_differences": recon.differences.filter(status=Difference.Status.OPEN).count(),
                                "statement_sha256": statement.sha256, "balances_sha256": balances.sha256})
        clock.lap("commit")
    except FileRefused as exc:
        raise WanxinError(_("The bank's file was refused whole, nothing recorded: %(why)s") % {"why": exc},
                          code="file_refused", status=502) from exc
    return recon


# -- the platform's own accounts at the bank -------------------------------------------------


def requests_view(end: dt.datetime, day: dt.date) -> dict[str, int]:
    """PLATFORM_INCOME / PLATFORM_CAPITAL as the platform's successful requests say they stand
    at ``end``: the commissions and transfers (``domain.platform_account_effects``). A running
    total: the latest earlier reconciled day's figure plus the requests finished since its
    close (a record's ``finished_at`` is when the platform applied it, never back-dated, so each
    is counted in exactly one day), so a run decrypts one day's payloads, not all history."""
    totals = dict.fromkeys(domain.PLATFORM_ACCOUNTS, 0)
    rows = DepositoryRequest.objects.filter(status=DepositoryRequest.Status.SUCCESS, finished_at__lt=end,
                                            service_name__in=["WITHDRAW", "CONFIRM_LOAN", "CONFIRM_REPAYMENT",
                                                              "TRANSFER"])
    before = (ReconciliationDay.objects.filter(date__lt=day, income_at_close__isnull=False)
              .order_by("-date").first())
    if before is not None:
        totals = {domain.PLATFORM_INCOME: before.income_at_close, domain.PLATFORM_CAPITAL: before.capital_at_close}
        rows = rows.filter(finished_at__gte=day_bounds(before.date)[1])
    for service_name, payload in rows.values_list("service_name", "payload").iterator(chunk_size=2000):
        for account, delta in domain.platform_account_effects(service_name, payload or {}).items():
            totals[account] += delta
    return totals


def platform_accounts_view(end: dt.datetime, day: dt.date, requests: dict[str, int] | None = None) -> dict[str, int]:
    """The platform's view of its own accounts at ``end``: its requests (``requests_view``)
    plus the bank-side entries (capital funding by the bank's staff) an officer has explained
    up to that day."""
    totals = dict(requests if requests is not None else requests_view(end, day))
    funded = (Difference.objects.filter(kind=Difference.Kind.MISSING_ON_PLATFORM, status=Difference.Status.EXPLAINED,
                                        service_name__in=domain.BANK_SIDE_SERVICES, day__date__lte=day)
              .aggregate(total=Sum("bank_amount"))["total"])
    totals[domain.PLATFORM_CAPITAL] += funded or 0
    return totals


def _platform_accounts_match(recon: ReconciliationDay, end: dt.datetime) -> None:
    requests = requests_view(end, recon.date)
    recon.income_at_close = requests[domain.PLATFORM_INCOME]
    recon.capital_at_close = requests[domain.PLATFORM_CAPITAL]
    bank = matching.bank_balances(domain.PLATFORM_ACCOUNTS)
    mine = platform_accounts_view(end, recon.date, requests)
    found = []
    for account in domain.PLATFORM_ACCOUNTS:
        available, frozen = bank.get(account, (0, 0))
        if (available, frozen) != (mine[account], 0):
            found.append(Difference(day=recon, kind=Difference.Kind.BALANCE_DIFFERS, account=account,
                                    bank_available=available, bank_frozen=frozen,
                                    platform_available=mine[account], platform_frozen=0))
    Difference.objects.bulk_create(found, ignore_conflicts=True)


# -- handling a difference -------------------------------------------------------------------


def _open_difference(difference_id: int) -> Difference:
    difference = Difference.objects.select_related("day").filter(pk=difference_id).first()
    if difference is None:
        raise NotFound(_("There is no such difference."), code="not_found")
    if difference.day.status == ReconciliationDay.Status.CLOSED:
        raise Conflict(_("The day is closed; its differences can no longer change."), code="day_closed")
    if difference.status != Difference.Status.OPEN:
        raise Conflict(_("This difference is already handled (%(status)s).")
                       % {"status": difference.get_status_display()}, code="handled")
    return difference


def _state(difference: Difference) -> dict:
    return {"status": difference.status, "comment": difference.comment, "bank_answer": difference.bank_answer}


def difference_explain(*, actor: User, difference_id: int, comment: str) -> Difference:
    operator_require(actor, RUN)
    comment = (comment or "").strip()
    if not comment:
        raise WanxinError(_("Say why the difference is explained: a comment is required."), code="comment_required")
    with transaction.atomic():
        difference = _open_difference(difference_id)
        Difference.objects.select_for_update().filter(pk=difference.pk).get()
        before = _state(difference)
        difference.status, difference.comment = Difference.Status.EXPLAINED, comment[:2000]
        difference.handled_by, difference.handled_at = actor, timezone.now()
        difference.save(update_fields=["status", "comment", "handled_by", "handled_at"])
        audit_record(actor=actor, action=AuditAction.RECONCILIATION_EXPLAIN, target=difference, before=before,
                     after=_state(difference))
    return difference


def difference_requery(*, actor: User, difference_id: int, client: BankClient | None = None) -> Difference:
    """Ask the bank again and apply what it says through the depository's idempotent
    ``result_apply``; the difference is resolved when the platform then agrees with the
    bank's file, else it stays open with the bank's answer beside it."""
    operator_require(actor, RUN)
    difference = _open_difference(difference_id)
    try:
        if difference.is_transaction:
            resolved, answer = _requery_request(difference, client)
        elif difference.is_allocation:
            resolved, answer = allocations.difference_recheck(difference, day_bounds(difference.day.date)[1], client)
        else:
            resolved, answer = _requery_balance(difference, client)
    except BankUnavailable as exc:
        raise WanxinError(_("The bank did not answer; try again later."), code="bank_unavailable", status=503) from exc
    with transaction.atomic():
        locked = Difference.objects.select_for_update().get(pk=difference.pk)
        if locked.status != Difference.Status.OPEN:  # handled meanwhile by someone else
            return locked
        before = _state(locked)
        locked.bank_answer = answer[:300]
        if resolved:
            locked.status = Difference.Status.RESOLVED
            locked.handled_by, locked.handled_at = actor, timezone.now()
        locked.save(update_fields=["bank_answer", "status", "handled_by", "handled_at"])
        audit_record(actor=actor, action=AuditAction.RECONCILIATION_REQUERY, target=locked, before=before, after=_state(locked))
    return locked


def _requery_request(difference: Difference, client: BankClient | None) -> tuple[bool, str]:
    answer = depository.request_requery(request_no=difference.request_no, client=client)
    if answer.get("respCode") == codes.QUERY_UNKNOWN:
        return False, _("The bank never recorded this request.")
    if answer.get("respCode") != codes.SUCCESS:
        return False, _("The bank could not answer: %(code)s %(msg)s") % {"code": answer.get("respCode"),
                                                                           "msg": answer.get("respMsg", "")}
    result = answer.get("result") or {}
    said = _("The bank says %(status)s (%(code)s).") % {"status": result.get("status", ""),
                                                        "code": result.get("respCode", "")}
    record = DepositoryRequest.objects.filter(request_no=difference.request_no).first()
    if record is None:
        return False, said + " " + _("The platform has no record of it.")
    if difference.kind == Difference.Kind.MISSING_AT_BANK:
        # The bank has it done: it sits in another day's statement (a request finished
        # across midnight), not missing.
        return result.get("respCode") == codes.SUCCESS and record.status == DepositoryRequest.Status.SUCCESS, said
    agrees = record.status == difference.bank_status and record.amount == difference.bank_amount
    return agrees, said


def _requery_balance(difference: Difference, client: BankClient | None) -> tuple[bool, str]:
    """A customer's balance: look up each of their requests still pending at the bank
    (whatever the bank finished is applied), then compare the platform's view at the close
    again. The platform's own accounts: compare again (explained bank-side entries count)."""
    end = day_bounds(difference.day.date)[1]
    if difference.account in domain.PLATFORM_ACCOUNTS:
        requests = None
        if difference.day.income_at_close is not None:  # this day's own figure: the same running total
            requests = {domain.PLATFORM_INCOME: difference.day.income_at_close,
                        domain.PLATFORM_CAPITAL: difference.day.capital_at_close}
        mine = (platform_accounts_view(end, difference.day.date, requests)[difference.account], 0)
        applied = 0
    else:
        applied = 0
        pending = DepositoryRequest.objects.filter(user_no=difference.account, status=DepositoryRequest.Status.PENDING,
                                                   service_name__in=domain.MONEY_SERVICES).order_by("created_at")
        for record in pending:
            depository.request_requery(request_no=record.request_no, client=client)
            applied += 1
        mine = matching.customer_view(difference.account, end)
    agrees = mine == (difference.bank_available, difference.bank_frozen)
    return agrees, _("Looked up %(n)s pending requests; the platform now says %(a)s available, %(f)s frozen.") % {
        "n": applied, "a": mine[0], "f": mine[1]}


# -- closing ---------------------------------------------------------------------------------


def day_close(*, actor: User, day: dt.date) -> ReconciliationDay:
    operator_require(actor, CLOSE)
    with transaction.atomic():
        recon = ReconciliationDay.objects.select_for_update().filter(date=day).first()
        if recon is None or recon.runs == 0:
            raise WanxinError(_("%(day)s has not been reconciled; reconcile it before closing.")
                              % {"day": day.isoformat()}, code="not_reconciled")
        if recon.status == ReconciliationDay.Status.CLOSED:
            raise Conflict(_("%(day)s is already closed.") % {"day": day.isoformat()}, code="day_closed")
        still_open = recon.differences.filter(status=Difference.Status.OPEN).count()
        if still_open:
            raise Conflict(_("%(day)s still has %(n)s open differences: re-query or explain each before closing.")
                           % {"day": day.isoformat(), "n": still_open}, code="open_differences")
        recon.status, recon.closed_by, recon.closed_at = ReconciliationDay.Status.CLOSED, actor, timezone.now()
        recon.save(update_fields=["status", "closed_by", "closed_at"])
        audit_record(actor=actor, action=AuditAction.RECONCILIATION_CLOSE_DAY, target=recon, before={"status": "OPEN"},
                     after={"status": "CLOSED", "date": day.isoformat(), "matched": recon.matched,
                            "differences": _handled_counts(recon.differences.values_list("status", flat=True))})
    return recon


def _handled_counts(statuses: Iterable[str]) -> dict[str, int]:
    counts: dict[str, int] = {}
    for status in statuses:
        counts[status] = counts.get(status, 0) + 1
    return counts


def yesterday_reconcile() -> ReconciliationDay | None:
    """The daily job: reconcile yesterday once (an operator reruns a day from its page)."""
    yesterday = timezone.localdate() - dt.timedelta(days=1)
    if ReconciliationDay.objects.filter(date=yesterday, runs__gt=0).exists():
        return None
    return day_reconcile(day=yesterday, actor=SYSTEM)
