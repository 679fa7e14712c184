"""What allocation does when a bank request it owns becomes final (DESIGN §5): one table
of handlers by the request's purpose. ``depository.result_apply`` routes a result to
``apply`` by its owner (an allocation ``BankRequest``, docs/decisions/0004) inside its
transaction, exactly once per request (it settles a record once)."""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Callable
from typing import NamedTuple

from django.db import connection, transaction
from django.db.models import F
from django.utils import timezone
from django.utils.translation import gettext_noop

from wanxin.depository.models import DepositoryRequest
from wanxin.depository.results import OwnerGone, ResultHandler, Route, owner_type_of
from wanxin.funds.domain import MoneyEvent
from wanxin.funds.services import FundEvents, fund_events_apply, fund_events_apply_many
from wanxin.protocol import codes

from . import domain, locks, services
from .models import Allocation, BankRequest, FeeCharge, FundRecord, Request

log = logging.getLogger("wanxin.allocation")
Purpose = BankRequest.Purpose
Kind = FundRecord.Kind
Handler = Callable[[Allocation, BankRequest, DepositoryRequest, bool], None]


def _bank_said(record: DepositoryRequest) -> str:
    return f"{record.resp_msg} ({record.resp_code})"[:300]


def _add(allocation: Allocation, **deltas: int) -> None:
    """Move the allocation's money columns by ``deltas`` in one statement (CHECKs hold)."""
    Allocation.objects.filter(pk=allocation.pk).update(
        updated_at=timezone.now(), **{name: F(name) + delta for name, delta in deltas.items()})
    allocation.refresh_from_db(fields=list(deltas))


def _record(allocation: Allocation, kind: str, amount: int, owned: BankRequest, note: str = "") -> None:
    FundRecord.objects.create(allocation=allocation, kind=kind, amount=amount, request_no=owned.request_no,
                              note=note)


def _mirror(owned: BankRequest, allocation: Allocation, event: MoneyEvent) -> None:
    fund_events_apply(user_no=allocation.customer.user_no, request_no=owned.request_no, events=[event])


def _freeze_done(allocation: Allocation, owned: BankRequest, kind: str, column: str) -> None:
    _add(allocation, **{column: owned.amount})
    _record(allocation, kind, owned.amount, owned)
    _mirror(owned, allocation, MoneyEvent("FREEZE", -owned.amount, -owned.amount, owned.amount,
                                          remark=f"allocation {allocation.allocation_no}"))


def _cancel(allocation: Allocation, note: str) -> None:
    """Cancel an application whose payment failed, releasing every freeze already made."""
    services.move(allocation, domain.CANCELLED, note=note)
    for freeze in allocation.bank_requests.filter(purpose__in=[Purpose.DEPOSIT, Purpose.RISK_FUND],
                                                  status="SUCCESS").order_by("pk"):
        services.release_issue(allocation, freeze, freeze.amount)


def _on_deposit(allocation: Allocation, owned: BankRequest, record: DepositoryRequest, ok: bool) -> None:
    if not ok:
        services.move(allocation, domain.CANCELLED, note=_bank_said(record))
        return
    _freeze_done(allocation, owned, Kind.DEPOSIT_FROZEN, "deposit_frozen")
    services.fee_issue(allocation, allocation.fee)


def _on_fee(allocation: Allocation, owned: BankRequest, record: DepositoryRequest, ok: bool) -> None:
    charge = FeeCharge.objects.filter(request_no=owned.request_no).first()
    if charge is not None:  # a charge of the fee run
        _on_scheduled_fee(allocation, owned, charge, record, ok)
        return
    if allocation.status != domain.APPLIED:  # pragma: no cover - the first fee is paid while applying
        log.warning("fee %s of %s in status %s", owned.request_no, allocation, allocation.status)
        return
    if not ok:
        _cancel(allocation, _bank_said(record))
        return
    _fee_paid(allocation, owned)
    if allocation.pays_risk_fund:
        services.freeze_issue(allocation, Purpose.RISK_FUND, allocation.risk_fund)
    else:
        services.move(allocation, domain.DEPOSIT_PAID)


def _fee_paid(allocation: Allocation, owned: BankRequest) -> None:
    _add(allocation, fees_paid=owned.amount)
    _record(allocation, Kind.FEE_PAID, -owned.amount, owned)
    _mirror(owned, allocation, MoneyEvent("ALLOCATION_FEE", -owned.amount, -owned.amount,
                                          remark=f"allocation {allocation.allocation_no}"))


def _on_scheduled_fee(allocation: Allocation, owned: BankRequest, charge: FeeCharge, record: DepositoryRequest,
                      ok: bool) -> None:
    if ok:
        FeeCharge.objects.filter(pk=charge.pk).update(status=FeeCharge.Status.PAID)
        _fee_paid(allocation, owned)
    else:  # the bank's balance was lower than the platform's mirror said: arrears
        FeeCharge.objects.filter(pk=charge.pk).update(status=FeeCharge.Status.ARREARS)
        services.arrears_add(allocation, owned.amount, note=f"{charge.date.isoformat()} {_bank_said(record)}"[:300])


def _on_risk_fund(allocation: Allocation, owned: BankRequest, record: DepositoryRequest, ok: bool) -> None:
    if ok:
        _freeze_done(allocation, owned, Kind.RISK_FUND_FROZEN, "risk_fund_frozen")
    if allocation.status not in (domain.APPLIED, domain.DEPOSIT_PAID):  # pragma: no cover - cancelled meanwhile
        log.warning("risk fund %s of %s in status %s", owned.request_no, allocation, allocation.status)
    elif ok and allocation.risk_fund_due == 0:
        services.move(allocation, domain.PAID)
    elif allocation.status == domain.APPLIED:
        # Deposit and fee are paid: the allocation goes on, the risk fund is made up later.
        services.move(allocation, domain.DEPOSIT_PAID, note=_bank_said(record))


def _on_release(allocation: Allocation, owned: BankRequest, record: DepositoryRequest, ok: bool) -> None:
    if not ok:
        log.error("release %s of %s refused: %s", owned.request_no, allocation, _bank_said(record))
        return
    freeze = BankRequest.objects.get(request_no=owned.pre_request_no)
    _add(allocation, **{_frozen_column(freeze): -owned.amount})
    _record(allocation, Kind.RELEASED, owned.amount, owned, note=freeze.get_purpose_display())
    _mirror(owned, allocation, MoneyEvent("UNFREEZE", owned.amount, owned.amount, -owned.amount,
                                          remark=f"allocation {allocation.allocation_no}"))
    services.settlement_progress(allocation)


def _frozen_column(freeze: BankRequest) -> str:
    return "risk_fund_frozen" if freeze.purpose == Purpose.RISK_FUND else "deposit_frozen"


def _on_out_of_freeze(allocation: Allocation, owned: BankRequest, record: DepositoryRequest, ok: bool) -> None:
    """A loss (to PLATFORM_CAPITAL) or arrears (to PLATFORM_INCOME) taken out of a freeze."""
    if not ok:
        log.error("settlement transfer %s of %s refused: %s", owned.request_no, allocation, _bank_said(record))
        return
    freeze = BankRequest.objects.get(request_no=owned.pre_request_no)
    _add(allocation, **{_frozen_column(freeze): -owned.amount})
    loss = owned.purpose == Purpose.LOSS
    _record(allocation, Kind.LOSS_TAKEN if loss else Kind.ARREARS_PAID, -owned.amount, owned,
            note=freeze.get_purpose_display())
    _mirror(owned, allocation, MoneyEvent("ALLOCATION_SETTLE" if loss else "ALLOCATION_FEE", -owned.amount, 0,
                                          -owned.amount, remark=f"allocation {allocation.allocation_no}"))
    services.settlement_progress(allocation)


def _on_payout(allocation: Allocation, owned: BankRequest, record: DepositoryRequest, ok: bool) -> None:
    if not ok:
        log.error("settlement payout %s of %s refused: %s", owned.request_no, allocation, _bank_said(record))
        return
    _record(allocation, Kind.SETTLE_PAID, owned.amount, owned)
    _mirror(owned, allocation, MoneyEvent("ALLOCATION_SETTLE", owned.amount, owned.amount,
                                          remark=f"allocation {allocation.allocation_no}"))
    services.settlement_progress(allocation)


def _on_fee_refund(allocation: Allocation, owned: BankRequest, record: DepositoryRequest, ok: bool) -> None:
    if not ok:
        log.error("fee refund %s of %s refused: %s", owned.request_no, allocation, _bank_said(record))
        return
    _add(allocation, fees_paid=-owned.amount)
    _record(allocation, Kind.FEE_REFUNDED, owned.amount, owned)
    _mirror(owned, allocation, MoneyEvent("ALLOCATION_FEE", owned.amount, owned.amount,
                                          remark=f"allocation {allocation.allocation_no} refund"))


def _request_done(owned: BankRequest, ok: bool, record: DepositoryRequest):
    request = services.request_for(owned.request_no)
    if request is not None:
        new = domain.R_DONE if ok else domain.R_FAILED
        domain.check_move(domain.REQUEST_MOVES, request.status, new)
        Request.objects.filter(pk=request.pk).update(status=new, note="" if ok else _bank_said(record))
    return request


def _on_top_up(allocation: Allocation, owned: BankRequest, record: DepositoryRequest, ok: bool) -> None:
    """More deposit frozen: the lines are recomputed from the whole deposit, and the top-up,
    moved into the sub-account, counts in its total assets until the next status."""
    _request_done(owned, ok, record)
    if not ok:
        return
    deposit = allocation.deposit + owned.amount
    lines = domain.lines(deposit=deposit, allocated=allocation.allocated, warning_pct=allocation.warning_pct,
                         liquidation_pct=allocation.liquidation_pct)
    assets = None if allocation.latest_total_assets is None else allocation.latest_total_assets + owned.amount
    Allocation.objects.filter(pk=allocation.pk).update(
        deposit=deposit, deposit_frozen=F("deposit_frozen") + owned.amount, warning_line=lines.warning_line,
        liquidation_line=lines.liquidation_line, latest_total_assets=assets, updated_at=timezone.now())
    _deposit_frozen(allocation, owned, Kind.TOP_UP_FROZEN, "top-up", assets=assets, lines=lines,
                    note=gettext_noop("margin top-up"))


def _on_increase(allocation: Allocation, owned: BankRequest, record: DepositoryRequest, ok: bool) -> None:
    """More deposit at the same multiple: allocated, the fee (from the next charge) and the
    lines grow; the sub-account receives the deposit and its allocated capital."""
    _request_done(owned, ok, record)
    if not ok:
        return
    deposit = allocation.deposit + owned.amount
    allocated = allocation.allocated + domain.allocated_for(owned.amount, allocation.multiple)
    lines = domain.lines(deposit=deposit, allocated=allocated, warning_pct=allocation.warning_pct,
                         liquidation_pct=allocation.liquidation_pct)
    added = owned.amount + allocated - allocation.allocated
    assets = None if allocation.latest_total_assets is None else allocation.latest_total_assets + added
    Allocation.objects.filter(pk=allocation.pk).update(
        deposit=deposit, allocated=allocated, fee=domain.fee_per_charge(allocated, allocation.rate),
        deposit_frozen=F("deposit_frozen") + owned.amount, warning_line=lines.warning_line,
        liquidation_line=lines.liquidation_line, latest_total_assets=assets, updated_at=timezone.now())
    _deposit_frozen(allocation, owned, Kind.INCREASE_FROZEN, "increase", assets=assets, lines=lines,
                    note=gettext_noop("increase"))


def _deposit_frozen(allocation: Allocation, owned: BankRequest, kind: str, remark: str, *, assets: int | None,
                    lines, note: str) -> None:
    """After a top-up's or an increase's freeze: its fund records, and the status the new lines
    give the latest recorded total assets (a margin call lifted, or not)."""
    allocation.refresh_from_db()
    _record(allocation, kind, owned.amount, owned)
    _mirror(owned, allocation, MoneyEvent("FREEZE", -owned.amount, -owned.amount, owned.amount,
                                          remark=f"allocation {allocation.allocation_no} {remark}"))
    if assets is not None and allocation.status in domain.RUNNING:
        verdict = domain.assess(allocation.status, assets, warning_line=lines.warning_line,
                                liquidation_line=lines.liquidation_line)
        if verdict.status != allocation.status:
            services.move(allocation, verdict.status, note=note)


def _on_profit(allocation: Allocation, owned: BankRequest, record: DepositoryRequest, ok: bool) -> None:
    _request_done(owned, ok, record)
    if not ok:
        return
    _add(allocation, profit_withdrawn=owned.amount)
    if allocation.latest_total_assets is not None:  # the operator took it out of the sub-account's cash
        _add(allocation, latest_total_assets=-owned.amount)
    _record(allocation, Kind.PROFIT_WITHDRAWN, owned.amount, owned)
    _mirror(owned, allocation, MoneyEvent("ALLOCATION_SETTLE", owned.amount, owned.amount,
                                          remark=f"allocation {allocation.allocation_no} profit"))


HANDLERS: dict[str, Handler] = {
    Purpose.DEPOSIT: _on_deposit,
    Purpose.RISK_FUND: _on_risk_fund,
    Purpose.FEE: _on_fee,
    Purpose.RELEASE: _on_release,
    Purpose.FEE_REFUND: _on_fee_refund,
    Purpose.LOSS: _on_out_of_freeze,
    Purpose.ARREARS: _on_out_of_freeze,
    Purpose.SETTLE: _on_payout,
    Purpose.TOP_UP: _on_top_up,
    Purpose.PROFIT: _on_profit,
    Purpose.INCREASE: _on_increase,
}


def apply(record: DepositoryRequest) -> None:
    """Run the handler of the purpose of the allocation's bank request that owns ``record``."""
    allocation, owned = locks.allocation_and_bank_request_lock(record.owner_id)
    if allocation is None or owned is None:
        raise OwnerGone(record.request_no)
    if owned.request_no != record.request_no or owned.status != "PENDING":  # pragma: no cover - settled once
        log.warning("bank result %s for %s (%s) changes nothing", record.request_no, owned.request_no, owned.status)
        return
    ok = record.status == DepositoryRequest.Status.SUCCESS
    owned.status = "SUCCESS" if ok else "FAIL"
    owned.save(update_fields=["status"])
    HANDLERS[owned.purpose](allocation, owned, record, ok)


BANK_REQUEST = owner_type_of(BankRequest)

# The routes of the bank results allocation owns, registered in ``AllocationConfig.ready``
# (docs/decisions/0004): every request is owned by one ``BankRequest``, whose purpose picks
# the handler in ``HANDLERS``.
RESULTS: dict[Route, ResultHandler] = {
    (BANK_REQUEST, "USER_PRE_TRANSACTION"): apply,
    (BANK_REQUEST, "TRANSFER"): apply,
    (BANK_REQUEST, "CANCEL_PRE_TRANSACTION"): apply,
}


# -- the fee run's batches (services/fee_sending.py) -----------------------------------------


def fee_results_apply(answers: list[dict]) -> int:
    """Apply the answers of one BATCH of the fee run's transfers in one transaction, a few
    statements whatever their number, with exactly the effects ``apply`` (``_on_fee``) has
    one by one: each depository request still pending is settled once (its row is the
    "applied once" guard, locked first as ``result_apply`` does; one already settled by a
    notification or query changes nothing), then, under the allocations' locks
    (docs/decisions/0003), a paid fee moves ``fees_paid``, gets its FEE_PAID fund
    record and the customer's mirror; a refused one becomes arrears. An answer that is not
    final (still processing) is left to its notification. Returns the number applied."""
    final = {a["requestNo"]: a for a in answers if a.get("respCode") not in codes.NOT_FINAL
             and a.get("respCode") != codes.REQUEST_NO_REUSED and a.get("requestNo")}
    if not final:
        return 0
    now = timezone.now()
    with transaction.atomic():
        settled = _records_settle(final, now)
        if not settled:
            return 0
        allocations = {a.pk: a for a in locks.allocations_lock(sorted({c.allocation_id for c in settled.values()}))}
        ok = {no: final[no].get("respCode") == codes.SUCCESS for no in settled}
        with connection.cursor() as cursor:
            _values_update(cursor, BankRequest._meta.db_table, "t.request_no = v.no",
                           [(no, "SUCCESS" if ok[no] else "FAIL") for no in settled])
            _values_update(cursor, FeeCharge._meta.db_table, "t.allocation_id = v.a AND t.request_no = v.no",
                           [(c.allocation_id, no, FeeCharge.Status.PAID if ok[no] else FeeCharge.Status.ARREARS)
                            for no, c in settled.items()])
        paid: dict[int, int] = {}
        owed: dict[int, int] = {}
        records, mirrors = [], []
        for no, c in settled.items():
            a = allocations[c.allocation_id]
            if ok[no]:
                paid[a.pk] = paid.get(a.pk, 0) + c.amount
                records.append(FundRecord(allocation_id=a.pk, kind=Kind.FEE_PAID, amount=-c.amount, request_no=no))
                mirrors.append(FundEvents(a.user_no, no, [MoneyEvent(
                    "ALLOCATION_FEE", -c.amount, -c.amount, remark=f"allocation {a.allocation_no}")]))
            else:
                owed[a.pk] = owed.get(a.pk, 0) + c.amount
                said = f"{final[no].get('respMsg', '')} ({final[no].get('respCode', '')})"
                records.append(FundRecord(allocation_id=a.pk, kind=Kind.FEE_ARREARS, amount=-c.amount,
                                          note=f"{c.date.isoformat()} {said}"[:300]))
        with connection.cursor() as cursor:
            table = Allocation._meta.db_table
            rows = [(pk, paid.get(pk, 0), owed.get(pk, 0)) for pk in sorted({*paid, *owed})]
            if rows:
                values = ", ".join(["(%s::bigint, %s::bigint, %s::bigint)"] * len(rows))
                cursor.execute(f"UPDATE {table} AS a SET fees_paid = a.fees_paid + v.paid, "  # noqa: S608
                               f"arrears = a.arrears + v.owed, updated_at = %s FROM (VALUES {values}) "
                               "AS v(id, paid, owed) WHERE a.id = v.id", [now, *(x for r in rows for x in r)])
        FundRecord.objects.bulk_create(records)
        fund_events_apply_many(mirrors, at=now)
    return len(settled)


_RESPONSE = DepositoryRequest._meta.get_field("response")


class _Settled(NamedTuple):
    record_id: int
    allocation_id: int
    amount: int
    date: dt.date


def _records_settle(final: dict[str, dict], now) -> dict[str, _Settled]:
    """Settle the depository requests of ``final`` that are fee-run charges still pending,
    locked by id; returns those settled now by requestNo (any other request is left to the
    one-by-one path: recovery looks it up). The charge is found through its allocation (the
    ``(allocation, date)`` index), not by request number (no index)."""
    table = DepositoryRequest._meta.db_table
    owners, charges = BankRequest._meta.db_table, FeeCharge._meta.db_table
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT d.id, d.request_no, b.allocation_id, b.amount, f.date FROM {table} d "  # noqa: S608
                       f"JOIN {owners} b ON b.id = d.owner_id "
                       f"JOIN {charges} f ON f.allocation_id = b.allocation_id AND f.request_no = d.request_no "
                       "WHERE d.request_no = ANY(%s) AND d.status = 'PENDING' AND d.owner_type = %s "
                       "ORDER BY d.id FOR UPDATE OF d", [list(final), BANK_REQUEST])
        settled = {no: _Settled(pk, allocation, amount, date) for pk, no, allocation, amount, date in cursor.fetchall()}
        if not settled:
            return {}
        rows = []
        for no, c in settled.items():
            answer = final[no]
            code = str(answer.get("respCode", ""))
            rows.append((c.record_id, "SUCCESS" if code == codes.SUCCESS else "FAIL", code[:5],
                         str(answer.get("respMsg", ""))[:300], _RESPONSE.get_prep_value(answer)))
        values = ", ".join(["(%s::bigint, %s, %s, %s, %s)"] * len(rows))
        cursor.execute(
            f"UPDATE {table} AS d SET status = v.status, resp_code = v.code, resp_msg = v.msg, "  # noqa: S608
            f"response = v.response, applied_from = 'sync', finished_at = %s, updated_at = %s, "
            f"attempts = d.attempts + 1 FROM (VALUES {values}) AS v(id, status, code, msg, response) "
            "WHERE d.id = v.id", [now, now, *(x for r in rows for x in r)])
    return settled


def _values_update(cursor, table: str, match: str, rows: list[tuple]) -> None:
    """``UPDATE table t SET status = v.value FROM (VALUES (…, value) …) v WHERE match``: one
    statement; the VALUES columns are ``no`` (a request number) and ``value``, after ``a``
    (an allocation id) when the rows have three."""
    if not rows:
        return
    columns = "a, no, value" if len(rows[0]) == 3 else "no, value"
    row = "(%s::bigint, %s, %s)" if len(rows[0]) == 3 else "(%s, %s)"
    cursor.execute(f"UPDATE {table} AS t SET status = v.value FROM (VALUES {', '.join([row] * len(rows))}) "  # noqa: S608
                   f"AS v({columns}) WHERE {match}", [x for r in rows for x in r])
