"""The fee run: every running allocation pays each charge of its schedule that has come
(after the first, paid up front), once per (allocation, date) whatever the number of
runs; a charge the available balance cannot cover becomes arrears (as does one the bank
refuses). The same run renews or starts termination of allocations whose term has ended.

The running allocations are taken in chunks of ``ALLOCATION_FEE_BATCH`` (at most 1,000):
each chunk is decided and written in one transaction, set-based (``fee_plan``), and its
transfers are sent after that commit as bank ``BATCH``es whose answers are applied in one
transaction each (``fee_sending``, ``results.fee_results_apply``). ``ALLOCATION_FEE_WORKERS``
threads, each with its own database connection, take chunks at once, so one chunk's round
trip overlaps the next one's writing. A run first sends again the transfers an earlier run
left waiting (killed between its commit and the bank's answer): each allocation is charged
once for a date whatever was killed where (docs/benchmarks.md, allocation fee run)."""

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

from .. import domain, selectors
from ..errors import Invalid
from ..models import Allocation, FundRecord
from .common import customer_only, owned_locked
from .fee_plan import Schedules, chunk_plan
from .fee_sending import batch_size, pending_transfers, transfers_send

log = logging.getLogger("wanxin.allocation")


@dataclass
class FeeRun:
    charged: int = 0  # transfers sent to the bank
    arrears: int = 0  # charges the balance could not cover
    ended: int = 0  # allocations whose term ended: termination started
    errors: int = 0  # chunks whose charging failed unexpectedly (logged; the others go on)
    renewed: int = 0  # MONTHLY allocations renewed automatically by a month
    resent: int = 0  # transfers an earlier run left waiting, sent again (not in ``counts``)
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False, compare=False)

    def add(self, **counts: int) -> None:
        with self._lock:
            for name, n in counts.items():
                setattr(self, name, getattr(self, name) + n)

    def counts(self) -> dict[str, int]:
        return {"charged": self.charged, "arrears": self.arrears, "ended": self.ended, "errors": self.errors,
                "renewed": self.renewed}


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


def _chunk_charge(ids: list[int], *, today: dt.date, now: dt.datetime, schedules: Schedules, run: FeeRun) -> None:
    plan = chunk_plan(ids, today=today, now=now, schedules=schedules)
    run.add(charged=plan.charged, arrears=plan.arrears, renewed=plan.renewed, ended=plan.ended)
    transfers_send(plan.transfers)


def fees_charge(*, today: dt.date | None = None, now: dt.datetime | None = None,
                workers: int | None = None) -> FeeRun:
    """Charge every running allocation what has come due by ``today`` (Beijing), in chunks
    taken by up to ``workers`` threads (``ALLOCATION_FEE_WORKERS``)."""
    now = now or timezone.now()
    today = today or now.astimezone(domain.BEIJING).date()
    run = FeeRun()
    leftovers = pending_transfers(created_before=timezone.now())
    if leftovers:
        log.warning("sending again %s fee transfers an earlier run left waiting", len(leftovers))
        run.add(resent=len(leftovers))
        transfers_send(leftovers)
    # A customer's allocations go in one chunk where they fit, so the chunk spends each
    # mirrored balance once (chunks are locked by primary key within).
    running = list(Allocation.objects.filter(status__in=domain.RUNNING, start_date__isnull=False)
                   .order_by("customer_id", "pk").values_list("pk", "start_date"))
    if not running:
        return run
    schedules = Schedules(selectors.trading_calendar(min(start for _, start in running)))
    size = batch_size()
    chunks = [[pk for pk, _ in running[i:i + size]] for i in range(0, len(running), size)]
    todo = iter(chunks)
    lock = threading.Lock()

    def charge(ids: list[int]) -> None:
        try:
            _chunk_charge(ids, today=today, now=now, schedules=schedules, run=run)
        except Exception:
            log.exception("charging the fees of allocations %s…%s failed", ids[0], ids[-1])
            run.add(errors=1)

    def work() -> None:
        try:
            while True:
                with lock:
                    ids = next(todo, None)
                if ids is None:
                    return
                charge(ids)
        finally:
            connections.close_all()  # this thread's connections (or back to the pool)

    workers = min(fee_workers() if workers is None else max(1, workers), len(chunks))
    if workers == 1:  # in this thread; an error propagates, as it did one by one
        for ids in chunks:
            _chunk_charge(ids, today=today, now=now, schedules=schedules, run=run)
        return run
    threads = [threading.Thread(target=work, name=f"allocation-fees-{n}", daemon=True) for n in range(workers)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return run
