"""Reads of allocation: products on sale, the trading calendar, quotes, and a customer's
own allocations with their fund dynamics."""

from __future__ import annotations

import datetime as dt

from django.db.models import QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _

from wanxin.core.errors import NotFound

from . import domain
from .errors import Invalid, invalid
from .models import Allocation, FundRecord, Holiday, Product

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
