"""Template filters of the allocation pages (formatting at the edge only)."""

from __future__ import annotations

from decimal import Decimal

from django import template

from wanxin.allocation import labels

register = template.Library()


@register.filter
def rate_pct(rate: Decimal | None) -> str:
    """``Decimal("0.0012")`` → ``"0.12%"`` (as many places as it has, at least two)."""
    if rate is None:
        return ""
    value = (Decimal(rate) * 100).normalize()
    if value.as_tuple().exponent > -2:
        value = value.quantize(Decimal("0.01"))
    return f"{value}%"


@register.filter
def product_type(code: str) -> str:
    return str(labels.PRODUCT_TYPES.get(code, code))


@register.filter
def allocation_status(code: str) -> str:
    return str(labels.STATUSES.get(code, code))
