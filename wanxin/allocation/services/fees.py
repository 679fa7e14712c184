"""The fee run: every running allocation pays each charge of its schedule that has come
(after the first, paid up front), once per (allocation, date) whatever the number of
runs; a charge the available balance cannot cover becomes arrears (as does one the bank
refuses). The same run starts termination of allocations whose term has ended.

Each allocation is charged in its own transaction under its row lock; its transfers are
sent after that commit and their results applied in ``results.py``."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from django.db import transaction
from django.db.models import F
from django.utils import timezone
from django.utils.translation import gettext as _

from wanxin.funds.models import DepositoryAccount

from .. import domain, selectors
from ..models import Allocation, FeeCharge, FundRecord
from .common import fee_issue, locked, move


@dataclass
class FeeRun:
    charged: int = 0  # transfers sent to the bank
    arrears: int = 0  # charges the balance could not cover
    ended: int = 0  # allocations whose term ended: termination started


def _term_over(allocation: Allocation, now: dt.datetime) -> bool:
    if allocation.end_date is None:
        return False
    ends = domain.ends_at(allocation.product_type, allocation.start_date, allocation.duration,
                          selectors.trading_calendar(allocation.start_date))
    return now >= ends


def _charge_one(allocation_id: int, today: dt.date, now: dt.datetime, run: FeeRun) -> None:
    with transaction.atomic():
        allocation = locked(allocation_id)
        if allocation.status not in domain.RUNNING or allocation.start_date is None:
            return
        calendar = selectors.trading_calendar(allocation.start_date)
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
                run.charged += 1
            else:
                FeeCharge.objects.create(allocation=allocation, date=day, amount=allocation.fee,
                                         status=FeeCharge.Status.ARREARS)
                arrears_add(allocation, allocation.fee, note=day.isoformat())
                run.arrears += 1
        if allocation.status in domain.RUNNING and _term_over(allocation, now):
            move(allocation, domain.TERMINATION_REQUESTED, note=_("the term ended"))
            run.ended += 1


def arrears_add(allocation: Allocation, amount: int, *, note: str = "", request_no: str = "") -> None:
    """A fee not paid: owed, shown to the customer and operators, taken first at settlement."""
    Allocation.objects.filter(pk=allocation.pk).update(arrears=F("arrears") + amount, updated_at=timezone.now())
    FundRecord.objects.create(allocation=allocation, kind=FundRecord.Kind.FEE_ARREARS, amount=-amount, note=note,
                              request_no=request_no)


def fees_charge(*, today: dt.date | None = None, now: dt.datetime | None = None) -> FeeRun:
    """Charge every running allocation what has come due by ``today`` (Beijing)."""
    now = now or timezone.now()
    today = today or now.astimezone(domain.BEIJING).date()
    run = FeeRun()
    for pk in (Allocation.objects.filter(status__in=domain.RUNNING).order_by("pk").values_list("pk", flat=True)):
        _charge_one(pk, today, now, run)
    return run
