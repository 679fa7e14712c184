"""The daily account status operators record for each running allocation, one at a time
or as an all-or-nothing CSV upload, and what it does to the allocation: its latest total
assets, and its status against the lines (the margin-call SMS once per crossing of the
warning line, a liquidation to the top of the operators' queue)."""

from __future__ import annotations

import csv
import io
import logging
from dataclasses import dataclass

from django.db import IntegrityError, transaction
from django.utils.translation import gettext as _

from wanxin.audit.actions import AuditAction
from wanxin.audit.log import audit_record
from wanxin.core.errors import Conflict, WanxinError
from wanxin.core.money import format_fen
from wanxin.notifications.services import sms_send

from .. import domain, selectors
from ..errors import Invalid, invalid
from ..models import Allocation, DailyStatus
from .common import locked, move, require

log = logging.getLogger("wanxin.allocation")
PERMISSION = "review_allocations"
CSV_COLUMNS = ("allocation_no", "day", "total_assets", "market_value", "available_cash", "profit_loss")
MAX_CSV_ROWS = 5_000


def _margin_call_after_commit(allocation: Allocation, total_assets: int) -> None:
    mobile = allocation.customer.mobile
    text = _("[Wanxin] Allocation %(no)s: total assets %(assets)s are at or below the warning line %(line)s. "
             "Top up the margin or reduce positions; at %(liquidation)s it is liquidated.") % {
        "no": allocation.allocation_no, "assets": format_fen(total_assets), "line": format_fen(allocation.warning_line),
        "liquidation": format_fen(allocation.liquidation_line)}

    def send() -> None:
        try:
            sms_send(mobile=mobile or "", purpose="allocation_margin_call", text=text)
        except WanxinError as exc:
            log.warning("margin call to %s not sent: %s", mobile, exc.message)

    if mobile:
        transaction.on_commit(send)


def _apply(operator, allocation: Allocation, status: domain.AccountStatus) -> DailyStatus:
    """Record one status of a locked running allocation and assess its lines."""
    if allocation.status not in domain.RUNNING:
        raise Conflict(_("The allocation %(no)s is %(status)s: statuses are recorded only while it runs.")
                       % {"no": allocation.allocation_no, "status": allocation.status_label()}, code="not_running")
    try:
        domain.check_account_status(status, today=selectors.today(), started=allocation.start_date)
    except domain.RuleError as exc:
        raise invalid(exc) from exc
    try:
        with transaction.atomic():
            row = DailyStatus.objects.create(
                allocation=allocation, day=status.day, total_assets=status.total_assets,
                market_value=status.market_value, available_cash=status.available_cash,
                profit_loss=status.profit_loss, recorded_by=operator)
    except IntegrityError as exc:
        raise Conflict(_("A status of %(no)s for %(day)s is already recorded.")
                       % {"no": allocation.allocation_no, "day": status.day.isoformat()}, code="duplicate") from exc
    if allocation.latest_status_day is None or status.day >= allocation.latest_status_day:
        Allocation.objects.filter(pk=allocation.pk).update(latest_total_assets=status.total_assets,
                                                           latest_status_day=status.day)
        allocation.latest_total_assets, allocation.latest_status_day = status.total_assets, status.day
        verdict = domain.assess(allocation.status, status.total_assets, warning_line=allocation.warning_line,
                                liquidation_line=allocation.liquidation_line)
        if verdict.status != allocation.status:
            move(allocation, verdict.status, actor=operator,
                 note=_("total assets %(assets)s on %(day)s") % {"assets": format_fen(status.total_assets),
                                                                 "day": status.day.isoformat()})
        if verdict.margin_call:
            _margin_call_after_commit(allocation, status.total_assets)
    audit_record(actor=operator, action=AuditAction.ALLOCATION_STATUS, target=allocation, before=None,
                 after={"day": status.day.isoformat(), "total_assets": status.total_assets,
                        "status": allocation.status})
    return row


def status_record(*, operator, allocation_id: int, status: domain.AccountStatus) -> DailyStatus:
    require(operator, PERMISSION)
    with transaction.atomic():
        return _apply(operator, locked(allocation_id), status)


@dataclass(frozen=True)
class ImportResult:
    recorded: int


def _fen(text: str, name: str) -> int:
    value = text.strip()
    sign = -1 if name == "profit_loss" and value.startswith("-") else 1
    number = domain.parse_whole(value.removeprefix("-") if sign < 0 else value, name)
    return sign * int(number or 0)


def statuses_import(*, operator, data: bytes | str) -> ImportResult:
    """A CSV of many statuses (header ``allocation_no,day,total_assets,market_value,
    available_cash,profit_loss``, amounts in fen): all applied or, if any row is wrong,
    none, with every wrong row named by its number (the header is row 1)."""
    require(operator, PERMISSION)
    text = data.decode("utf-8-sig") if isinstance(data, bytes) else data
    reader = csv.reader(io.StringIO(text))
    header = next(reader, None)
    if header is None or tuple(h.strip() for h in header) != CSV_COLUMNS:
        raise Invalid(_("The first row must be: %(columns)s.") % {"columns": ",".join(CSV_COLUMNS)}, code="invalid_csv")
    rows: list[tuple[int, str, domain.AccountStatus]] = []
    errors: list[tuple[int, str]] = []
    for number, row in enumerate(reader, start=2):
        if not any(cell.strip() for cell in row):
            continue
        if len(row) != len(CSV_COLUMNS):
            errors.append((number, _("%(count)s columns, expected %(expected)s")
                           % {"count": len(row), "expected": len(CSV_COLUMNS)}))
            continue
        try:
            day = domain.parse_date(row[1], "day")
            if day is None:
                raise domain.RuleError(domain.gettext_noop("This is required."), field="day")
            values = {name: _fen(row[i], name) for i, name in enumerate(CSV_COLUMNS) if i >= 2}
        except domain.RuleError as exc:
            errors.append((number, f"{exc.field}: {invalid(exc).message}"))
            continue
        rows.append((number, row[0].strip(), domain.AccountStatus(day=day, **values)))
    if len(rows) > MAX_CSV_ROWS:
        raise Invalid(_("At most %(n)s rows at a time.") % {"n": MAX_CSV_ROWS}, code="invalid_csv")
    if not errors and not rows:
        raise Invalid(_("The file has no statuses."), code="invalid_csv")
    numbers = {no: pk for no, pk in Allocation.objects.filter(allocation_no__in=[r[1] for r in rows])
               .values_list("allocation_no", "pk")}
    try:
        with transaction.atomic():
            # Locks in primary-key order: two uploads over the same allocations never deadlock.
            for number, allocation_no, status in sorted(rows, key=lambda r: (numbers.get(r[1], 0), r[0])):
                if allocation_no not in numbers:
                    errors.append((number, _("no allocation %(no)s") % {"no": allocation_no}))
                    continue
                try:
                    with transaction.atomic():
                        _apply(operator, locked(numbers[allocation_no]), status)
                except WanxinError as exc:
                    errors.append((number, exc.message))
            if errors:
                raise _Refused
    except _Refused:
        listed = "; ".join(_("row %(n)s: %(message)s") % {"n": n, "message": m} for n, m in sorted(errors))
        raise Invalid(_("Nothing was recorded. %(errors)s") % {"errors": listed}, code="invalid_csv") from None
    return ImportResult(recorded=len(rows))


class _Refused(Exception):
    """Rolls the whole upload back."""
