"""The fee run: every running allocation pays each charge of its schedule that has come
(after the first, paid up front), once per (allocation, date) whatever the number of
runs; a charge the available balance cannot cover becomes arrears (as does one the bank
refuses). The same run starts termination of allocations whose term has ended.

Each allocation is charged in its own transaction under its row lock; its transfers are
sent after that commit and their results applied in ``results.py``. Different allocations
are charged concurrently by ``ALLOCATION_FEE_WORKERS`` threads, each with its own database
connection, so the bank's round trips overlap (the row lock and the unique
``FeeCharge(allocation, date)`` keep each charge to one whatever runs beside it)."""

from __future__ import annotations

import datetime as dt
import logging
import threading
from dataclasses import dataclass, field

from django.conf import settings
from django.db import connections, transaction
from django.db.models import F
from django.utils import timezone
from django.utils.translation import gettext as _

from wanxin.core.errors import Conflict
from wanxin.funds.models import DepositoryAccount

from .. import domain, selectors
from ..errors import Invalid
from ..models import Allocation, FeeCharge, FundRecord
from .common import customer_only, fee_issue, locked, move, owned_locked

log = logging.getLogger("wanxin.allocation")


@dataclass
class FeeRun:
    charged: int = 0  # transfers sent to the bank
    arrears: int = 0  # charges the balance could not cover
    ended: int = 0  # allocations whose term ended: termination started
    errors: int = 0  # allocations whose charging failed unexpectedly (logged; the others go on)
    renewed: int = 0  # MONTHLY allocations renewed automatically by a month
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False, compare=False)

    def add(self, **counts: int) -> None:
        with self._lock:
            for name, n in counts.items():
                setattr(self, name, getattr(self, name) + n)

    def counts(self) -> dict[str, int]:
        return {"charged": self.charged, "arrears": self.arrears, "ended": self.ended, "errors": self.errors,
                "renewed": self.renewed}


def _term_over(allocation: Allocation, now: dt.datetime, calendar: domain.TradingCalendar) -> bool:
    if allocation.end_date is None:
        return False
    ends = domain.ends_at(allocation.product_type, allocation.start_date, allocation.duration, calendar)
    return now >= ends


def _charge_one(allocation_id: int, today: dt.date, now: dt.datetime, run: FeeRun,
                calendar: domain.TradingCalendar) -> None:
    """``calendar`` is the run's (every holiday from the earliest running start on)."""
    with transaction.atomic():
        allocation = locked(allocation_id)
        if allocation.status not in domain.RUNNING or allocation.start_date is None:
            return
        dates = domain.charge_dates(allocation.product_type, allocation.start_date, allocation.duration, calendar)
        charged = set(allocation.fee_charges.values_list("date", flat=True))
        account = DepositoryAccount.objects.filter(user_id=allocation.customer_id).first()
        available = account.available if account else 0
        for day in dates[1:]:  # the first was paid up front
            if day > today or day in charged:
                continue
            outcome = domain.charge_fee(allocation.fee, max(available, 0))
            if outcome.paid:
                owned = fee_issue(allocation, allocation.fee)
                FeeCharge.objects.create(allocation=allocation, date=day, amount=allocation.fee,
                                         request_no=owned.request_no)
                available -= outcome.paid
                run.add(charged=1)
            else:
                FeeCharge.objects.create(allocation=allocation, date=day, amount=allocation.fee,
                                         status=FeeCharge.Status.ARREARS)
                arrears_add(allocation, allocation.fee, note=day.isoformat())
                run.add(arrears=1)
        # A MONTHLY allocation set to renew takes one more month while its balance covers
        # the next month's fee (dated start + duration months: the end it passes); without
        # renewal, or without the money, reaching the end starts termination.
        while allocation.status in domain.RUNNING and _term_over(allocation, now, calendar):
            if not (allocation.auto_renew and allocation.product_type == domain.MONTHLY
                    and domain.charge_fee(allocation.fee, max(available, 0)).paid):
                move(allocation, domain.TERMINATION_REQUESTED, note=_("the term ended"))
                run.add(ended=1)
                break
            _renew(allocation, calendar)
            available -= allocation.fee
            run.add(charged=1, renewed=1)


def _renew(allocation: Allocation, calendar: domain.TradingCalendar) -> None:
    """One more month: the fee of the month that starts at the old end is charged (a
    transfer, as any charge of the run) and the end moves a month on, still counted from
    the original start."""
    day = domain.end_date(allocation.product_type, allocation.start_date, allocation.duration, calendar)
    duration = allocation.duration + 1
    end = domain.end_date(allocation.product_type, allocation.start_date, duration, calendar)
    Allocation.objects.filter(pk=allocation.pk).update(duration=duration, end_date=end, updated_at=timezone.now())
    allocation.duration, allocation.end_date = duration, end
    owned = fee_issue(allocation, allocation.fee)
    FeeCharge.objects.create(allocation=allocation, date=day, amount=allocation.fee, request_no=owned.request_no)
    FundRecord.objects.create(allocation=allocation, kind=FundRecord.Kind.STATUS, status_from=allocation.status,
                              status_to=allocation.status, note=_("renewed automatically until %(end)s")
                              % {"end": end.isoformat()})


# Before the end: from applying until termination is asked for.
RENEWABLE = (domain.APPLIED, domain.DEPOSIT_PAID, domain.PAID, domain.APPROVED, *domain.RUNNING)


def auto_renew_set(*, customer, allocation_id: int, on: object) -> Allocation:
    """The customer turns automatic renewal of a running MONTHLY allocation on or off."""
    customer_only(customer)
    if type(on) is not bool:
        raise Invalid(_("Say whether to renew automatically (true or false)."), code="invalid_on")
    with transaction.atomic():
        allocation = owned_locked(customer, allocation_id)
        if allocation.product_type != domain.MONTHLY or allocation.status not in RENEWABLE:
            raise Conflict(_("Only a monthly allocation that is not yet ending can renew automatically."),
                           code="bad_status")
        Allocation.objects.filter(pk=allocation.pk).update(auto_renew=on, updated_at=timezone.now())
        allocation.auto_renew = on
    return allocation


def arrears_add(allocation: Allocation, amount: int, *, note: str = "", request_no: str = "") -> None:
    """A fee not paid: owed, shown to the customer and operators, taken first at settlement."""
    Allocation.objects.filter(pk=allocation.pk).update(arrears=F("arrears") + amount, updated_at=timezone.now())
    FundRecord.objects.create(allocation=allocation, kind=FundRecord.Kind.FEE_ARREARS, amount=-amount, note=note,
                              request_no=request_no)


def fee_workers() -> int:
    return max(1, int(settings.ALLOCATION_FEE_WORKERS))


def fees_charge(*, today: dt.date | None = None, now: dt.datetime | None = None,
                workers: int | None = None) -> FeeRun:
    """Charge every running allocation what has come due by ``today`` (Beijing), with up to
    ``workers`` threads (``ALLOCATION_FEE_WORKERS``)."""
    now = now or timezone.now()
    today = today or now.astimezone(domain.BEIJING).date()
    run = FeeRun()
    running = list(Allocation.objects.filter(status__in=domain.RUNNING, start_date__isnull=False)
                   .order_by("pk").values_list("pk", "start_date"))
    if not running:
        return run
    calendar = selectors.trading_calendar(min(start for _, start in running))
    todo = iter([pk for pk, _ in running])
    lock = threading.Lock()

    def work() -> None:
        try:
            while True:
                with lock:
                    pk = next(todo, None)
                if pk is None:
                    return
                try:
                    _charge_one(pk, today, now, run, calendar)
                except Exception:
                    log.exception("charging the fees of allocation %s failed", pk)
                    run.add(errors=1)
        finally:
            connections.close_all()  # this thread's connections (or back to the pool)

    workers = min(fee_workers() if workers is None else max(1, workers), len(running))
    if workers == 1:
        for pk, _ in running:
            _charge_one(pk, today, now, run, calendar)
        return run
    threads = [threading.Thread(target=work, name=f"allocation-fees-{n}", daemon=True) for n in range(workers)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return run
