"""One chunk of the fee run, decided and written in one transaction, set-based.

The chunk's allocations are locked (by primary key, docs/decisions/0003 row 5) and read with
their customers' mirrored balances and the dates already charged in a handful of queries;
what each owes today is decided in Python by the domain rules; then every fee transfer's
``BankRequest`` and ``DepositoryRequest``, every ``FeeCharge`` and the arrears with their
fund records are written by a few multi-row statements whatever the chunk's size. The
transfers are sent after the commit (``fee_sending``). Ends of term (renewal, termination)
are rare and written one by one, after the charges, as the one-by-one run did.

Idempotent per (allocation, date): the row lock and the dates read under it (and the
unique ``FeeCharge(allocation, date)`` behind them) keep a charge to one whatever runs
beside it or runs again."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from functools import cache

from django.db import connection, transaction
from django.db.models import F
from django.utils import timezone
from django.utils.translation import gettext as _

from wanxin.core.ids import new_request_no
from wanxin.depository.models import DepositoryRequest
from wanxin.depository.results import owner_type_of
from wanxin.funds.models import DepositoryAccount

from .. import domain
from ..models import Allocation, BankRequest, FeeCharge, FundRecord
from .common import PLATFORM_INCOME, move

BANK_REQUEST = owner_type_of(BankRequest)


@dataclass
class Transfer:
    """A fee transfer to send: the depository request's number and its data."""

    request_no: str
    payload: dict


@dataclass
class _Due:
    allocation: Allocation
    day: dt.date
    paid: bool


@dataclass
class _Renewal:
    allocation: Allocation
    old_status: str
    duration: int
    end: dt.date


@dataclass
class Plan:
    transfers: list[Transfer]
    charged: int = 0
    arrears: int = 0
    renewed: int = 0
    ended: int = 0


class Schedules:
    """The run's calendar rules, computed once per (type, start, duration): thousands of
    allocations share a few schedules."""

    def __init__(self, calendar: domain.TradingCalendar):
        self.calendar = calendar
        self.dates: Callable[[str, dt.date, int], list[dt.date]] = cache(
            lambda kind, start, duration: domain.charge_dates(kind, start, duration, calendar))
        self.end: Callable[[str, dt.date, int], dt.date] = cache(
            lambda kind, start, duration: domain.end_date(kind, start, duration, calendar))
        self.ends_at: Callable[[str, dt.date, int], dt.datetime] = cache(
            lambda kind, start, duration: domain.ends_at(kind, start, duration, calendar))


def chunk_plan(ids: Iterable[int], *, today: dt.date, now: dt.datetime, schedules: Schedules) -> Plan:
    """Charge what allocations ``ids`` owe by ``today`` and end the terms that are over at
    ``now``; returns the transfers to send once this has committed."""
    with transaction.atomic():
        allocations = list(Allocation.objects.select_for_update(of=("self",))
                           .filter(pk__in=list(ids), status__in=domain.RUNNING, start_date__isnull=False)
                           .annotate(user_no=F("customer__user_no")).order_by("pk"))
        if not allocations:
            return Plan([])
        pks = [a.pk for a in allocations]
        available = dict(DepositoryAccount.objects.filter(user_id__in={a.customer_id for a in allocations})
                         .values_list("user_id", "available"))
        charged: dict[int, set[dt.date]] = {}
        for pk, day in FeeCharge.objects.filter(allocation_id__in=pks).values_list("allocation_id", "date"):
            charged.setdefault(pk, set()).add(day)
        dues: list[_Due] = []
        renewals: list[_Renewal] = []
        ending: list[Allocation] = []
        for a in allocations:
            # The customer's mirror, less what this chunk already charged them.
            left = available.get(a.customer_id, 0)
            done = charged.get(a.pk, set())
            for day in schedules.dates(a.product_type, a.start_date, a.duration)[1:]:  # the first was paid up front
                if day > today or day in done:
                    continue
                paid = domain.charge_fee(a.fee, max(left, 0)).paid > 0
                left -= a.fee if paid else 0
                dues.append(_Due(a, day, paid))
            # A MONTHLY allocation set to renew takes one more month while its balance covers
            # the next month's fee (dated start + duration months: the end it passes);
            # without renewal, or without the money, reaching the end starts termination.
            duration = a.duration
            while a.end_date is not None and now >= schedules.ends_at(a.product_type, a.start_date, duration):
                if not (a.auto_renew and a.product_type == domain.MONTHLY
                        and domain.charge_fee(a.fee, max(left, 0)).paid):
                    ending.append(a)
                    break
                dues.append(_Due(a, schedules.end(a.product_type, a.start_date, duration), True))
                duration += 1
                left -= a.fee
                renewals.append(_Renewal(a, a.status, duration, schedules.end(a.product_type, a.start_date, duration)))
            available[a.customer_id] = left
        plan = Plan(_write_charges(dues))
        plan.charged = len(plan.transfers)
        plan.arrears = len(dues) - plan.charged
        for renewal in renewals:
            _renew(renewal)
        for a in ending:
            move(a, domain.TERMINATION_REQUESTED, note=_("the term ended"))
        plan.renewed, plan.ended = len(renewals), len(ending)
    return plan


def _write_charges(dues: list[_Due]) -> list[Transfer]:
    """Every charge of the chunk in a few statements: the paid ones' bank requests (owners
    first, docs/decisions/0004), their depository requests and fee charges; the unpaid
    ones' fee charges, arrears and fund records."""
    if not dues:
        return []
    paid = [d for d in dues if d.paid]
    owned = BankRequest.objects.bulk_create([
        BankRequest(allocation=d.allocation, purpose=BankRequest.Purpose.FEE, request_no=new_request_no("WXAT"),
                    amount=d.allocation.fee) for d in paid])
    transfers = [Transfer(o.request_no, {"bizType": "ALLOCATION_FEE", "payer": d.allocation.user_no,
                                         "payee": PLATFORM_INCOME, "amount": o.amount})
                 for d, o in zip(paid, owned, strict=True)]
    DepositoryRequest.objects.bulk_create([
        DepositoryRequest(request_no=t.request_no, service_name="TRANSFER", payload=t.payload,
                          user_no=d.allocation.user_no, amount=o.amount, owner_type=BANK_REQUEST, owner_id=o.pk)
        for d, o, t in zip(paid, owned, transfers, strict=True)])
    numbers = iter(t.request_no for t in transfers)
    FeeCharge.objects.bulk_create([
        FeeCharge(allocation=d.allocation, date=d.day, amount=d.allocation.fee, request_no=next(numbers))
        if d.paid else
        FeeCharge(allocation=d.allocation, date=d.day, amount=d.allocation.fee, status=FeeCharge.Status.ARREARS)
        for d in dues])
    unpaid = [d for d in dues if not d.paid]
    if unpaid:
        owed: dict[int, int] = {}
        for d in unpaid:
            owed[d.allocation.pk] = owed.get(d.allocation.pk, 0) + d.allocation.fee
        arrears_add_many(owed)
        FundRecord.objects.bulk_create([
            FundRecord(allocation=d.allocation, kind=FundRecord.Kind.FEE_ARREARS, amount=-d.allocation.fee,
                       note=d.day.isoformat()) for d in unpaid])
    return transfers


def arrears_add_many(owed: dict[int, int]) -> None:
    """Add ``owed[allocation pk]`` to each allocation's arrears in one ``UPDATE … FROM
    (VALUES …)`` (the caller holds the rows' locks and records the fund records)."""
    table = Allocation._meta.db_table
    rows = sorted(owed.items())
    values = ", ".join(["(%s::bigint, %s::bigint)"] * len(rows))
    with connection.cursor() as cursor:
        cursor.execute(f"UPDATE {table} AS a SET arrears = a.arrears + v.amount, updated_at = %s "  # noqa: S608
                       f"FROM (VALUES {values}) AS v(id, amount) WHERE a.id = v.id",
                       [timezone.now(), *(x for row in rows for x in row)])


def _renew(renewal: _Renewal) -> None:
    """One more month: the end moves a month on, still counted from the original start (its
    fee, dated the old end, is one of the chunk's charges)."""
    a = renewal.allocation
    Allocation.objects.filter(pk=a.pk).update(duration=renewal.duration, end_date=renewal.end,
                                              updated_at=timezone.now())
    a.duration, a.end_date = renewal.duration, renewal.end
    FundRecord.objects.create(allocation=a, kind=FundRecord.Kind.STATUS, status_from=renewal.old_status,
                              status_to=renewal.old_status, note=_("renewed automatically until %(end)s")
                              % {"end": renewal.end.isoformat()})
