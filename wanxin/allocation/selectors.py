"""Reads of allocation: products on sale, the trading calendar, quotes, and a customer's
own allocations with their fund dynamics."""

from __future__ import annotations

import datetime as dt

from django.db.models import (
    BigIntegerField,
    Case,
    Count,
    Exists,
    F,
    OuterRef,
    QuerySet,
    Sum,
    Value,
    When,
)
from django.utils import timezone
from django.utils.translation import gettext as _

from wanxin.core.errors import NotFound

from . import domain
from .errors import Invalid, invalid
from .models import (
    Allocation,
    BankRequest,
    DailyStatus,
    FundRecord,
    Holiday,
    Product,
    Request,
    Settlement,
    SubAccount,
)

CALENDAR_DEFAULT_DAYS = 30


def products_on_sale() -> QuerySet[Product]:
    return Product.objects.filter(active=True).prefetch_related("multiples").order_by("type", "id")


def product_on_sale(product_id: int) -> Product:
    product = products_on_sale().filter(pk=product_id).first()
    if product is None:
        raise Invalid(_("There is no such product on sale."), code="invalid_productId", status=404)
    return product


def today() -> dt.date:
    """Today in Beijing (the exchange's and the bank's business day)."""
    return timezone.localtime(timezone.now(), domain.BEIJING).date()


def trading_calendar(since: dt.date) -> domain.TradingCalendar:
    """The calendar from ``since`` on: weekdays minus the holidays operators configured
    (the table holds a few dozen days a year, so every later one is loaded)."""
    return domain.TradingCalendar(Holiday.objects.filter(day__gte=since).values_list("day", flat=True))


def trading_days(first: dt.date | None, last: dt.date | None) -> list[dt.date]:
    first = first or today()
    last = last or first + dt.timedelta(days=CALENDAR_DEFAULT_DAYS)
    try:
        domain.check_span(first, last)
    except domain.RuleError as exc:
        raise invalid(exc) from exc
    return trading_calendar(first).between(first, last)


def quote(*, product: Product, deposit: int, multiple: int, duration: int, start: dt.date | None) -> domain.Quote:
    start = start or today()
    try:
        return domain.quote(product.terms(), deposit=deposit, multiple=multiple, duration=duration, start=start,
                            calendar=trading_calendar(start))
    except domain.RuleError as exc:
        raise invalid(exc) from exc


# -- the customer's allocations -------------------------------------------------------------------------


def allocations_of(customer) -> QuerySet[Allocation]:
    return Allocation.objects.filter(customer=customer).select_related("product").order_by("-created_at", "-id")


def allocation_of(customer, allocation_id: int) -> Allocation:
    """The customer's own allocation; another customer's is "not found" (never revealed)."""
    allocation = allocations_of(customer).filter(pk=allocation_id).first()
    if allocation is None:
        raise NotFound(_("No such allocation."), code="not_found")
    return allocation


def fund_dynamics(allocation: Allocation) -> QuerySet[FundRecord]:
    """Every money event and status change of the allocation, oldest first."""
    return allocation.fund_records.order_by("created_at", "id")


# -- the operators' desk --------------------------------------------------------------------------------


def by_liquidation_distance(statuses=domain.RUNNING) -> QuerySet[Allocation]:
    """Allocations in ``statuses`` nearest their liquidation line first, annotated with
    ``distance`` (latest recorded total assets − liquidation line, fen); those with no account
    status recorded yet come last. The desk's at-risk queue and the risk board both read it."""
    return (Allocation.objects.select_related("customer", "product").filter(status__in=statuses)
            .annotate(distance=F("latest_total_assets") - F("liquidation_line"))
            .order_by(F("distance").asc(nulls_last=True), "pk"))


def running_counts() -> dict[str, int]:
    """How many running allocations are in each running status."""
    counted = dict(Allocation.objects.filter(status__in=domain.RUNNING).values_list("status")
                   .annotate(n=Count("pk")).values_list("status", "n"))
    return {status: counted.get(status, 0) for status in domain.RUNNING}


def desk_queues(*, day: dt.date | None = None) -> dict[str, list]:
    """Every queue of allocation work, each in the order it should be done: allocations at
    risk nearest their liquidation line first."""
    day = day or today()
    base = Allocation.objects.select_related("customer", "product")
    at_risk = by_liquidation_distance((domain.LIQUIDATION, domain.WARNING)).filter(latest_total_assets__isnull=False)
    recorded_today = DailyStatus.objects.filter(allocation=OuterRef("pk"), day=day)
    return {
        "at_risk": list(at_risk[:200]),
        "review": list(base.filter(status__in=[domain.DEPOSIT_PAID, domain.PAID]).order_by("created_at")[:200]),
        "missing_status": list(base.filter(status__in=domain.RUNNING).exclude(Exists(recorded_today))
                               .order_by("pk")[:500]),
        "requests": list(Request.objects.filter(status=domain.R_PENDING).select_related("allocation")
                         .order_by("created_at")[:200]),
        "terminating": list(base.filter(status=domain.TERMINATION_REQUESTED).order_by("updated_at")[:200]),
        "settlements": list(Settlement.objects.filter(status="PROPOSED").select_related("allocation", "proposed_by")
                            .order_by("created_at")[:200]),
    }


def desk_allocation(allocation_id: int) -> Allocation:
    allocation = (Allocation.objects.select_related("customer", "product", "sub_account")
                  .filter(pk=allocation_id).first())
    if allocation is None:
        raise NotFound(_("No such allocation."), code="not_found")
    return allocation


def available_sub_accounts() -> QuerySet[SubAccount]:
    return SubAccount.objects.filter(status=SubAccount.Status.AVAILABLE).order_by("account_id")


# -- what reconciliation reads (it sits above allocation; allocation never imports it) -----------

# What each kind of fund record does to the money the allocation holds frozen at the bank: a
# freeze adds its amount; a release (recorded positive, as the customer's money comes back to
# available) removes it; a loss or arrears taken out of a freeze is recorded negative already.
FROZEN_EFFECT = {
    FundRecord.Kind.DEPOSIT_FROZEN: 1, FundRecord.Kind.RISK_FUND_FROZEN: 1, FundRecord.Kind.TOP_UP_FROZEN: 1,
    FundRecord.Kind.INCREASE_FROZEN: 1, FundRecord.Kind.RELEASED: -1, FundRecord.Kind.LOSS_TAKEN: 1,
    FundRecord.Kind.ARREARS_PAID: 1,
}


def frozen_by_allocation(end: dt.datetime) -> QuerySet:
    """Per allocation, what its fund records say it holds frozen at the bank at ``end``
    (deposit, top-ups, increases and risk fund, less releases and what settlement took out):
    rows ``(customer_ref, allocation_ref, frozen)``, one per allocation with a record before
    ``end``. A queryset, so reconciliation can join it in SQL against the bank's file."""
    effect = Case(*[When(kind=kind, then=F("amount") * sign) for kind, sign in FROZEN_EFFECT.items()],
                  default=Value(0), output_field=BigIntegerField())
    return (FundRecord.objects.filter(created_at__lt=end)
            .values(customer_ref=F("allocation__customer_id"), allocation_ref=F("allocation__allocation_no"))
            .annotate(frozen=Sum(effect)).order_by())


def bank_request_numbers() -> QuerySet:
    """The request numbers of every bank request an allocation owns (the customer's fund
    records of those requests are the allocation's money)."""
    return BankRequest.objects.values("request_no").order_by()
