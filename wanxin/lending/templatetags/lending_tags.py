"""Template filters of the lending pages (formatting at the edge only)."""

from __future__ import annotations

from decimal import Decimal

from django import template

from wanxin.lending import labels

register = template.Library()


@register.filter
def pct(rate: Decimal | None) -> str:
    """``Decimal("0.105")`` → ``"10.50%"``."""
    if rate is None:
        return ""
    return f"{(Decimal(rate) * 100).quantize(Decimal('0.01'))}%"


@register.filter
def method_label(code: str) -> str:
    return labels.method_label(code)


@register.filter
def project_status(code: str) -> str:
    """A loan's status code as the pages name it (the API keeps the code)."""
    return labels.status_label(code)


@register.filter
def tender_status(code: str) -> str:
    """A tender status code as the pages name it (the API keeps the code)."""
    return labels.tender_status_label(code)
