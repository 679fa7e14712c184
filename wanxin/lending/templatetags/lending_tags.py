"""Template filters of the lending pages (formatting at the edge only)."""

from __future__ import annotations

from decimal import Decimal

from django import template

from wanxin.lending.domain import METHOD_LABELS
from wanxin.lending.models import Tender

register = template.Library()


@register.filter
def pct(rate: Decimal | None) -> str:
    """``Decimal("0.105")`` → ``"10.50%"``."""
    if rate is None:
        return ""
    return f"{(Decimal(rate) * 100).quantize(Decimal('0.01'))}%"


@register.filter
def method_label(code: str) -> str:
    return METHOD_LABELS.get(code, code)


@register.filter
def tender_status(code: str) -> str:
    """A tender status code as the pages name it (the API keeps the code)."""
    return dict(Tender.Status.choices).get(code, code)
