"""Template filters for money and fund-record types (formatting at the edge only)."""

from __future__ import annotations

from django import template

from wanxin.core.money import format_fen
from wanxin.funds import labels
from wanxin.funds.domain import fen_to_yuan_text

register = template.Library()


@register.filter
def fen(amount: int | None) -> str:
    """``123456`` → ``¥1,234.56``."""
    return "" if amount is None else format_fen(int(amount))


@register.filter
def signed_fen(amount: int | None) -> str:
    """``123456`` → ``+¥1,234.56``; negatives keep their minus sign."""
    if amount is None:
        return ""
    return ("+" if amount > 0 else "") + format_fen(int(amount))


@register.filter
def yuan(amount: int | None) -> str:
    """``123456`` → ``1234.56`` (form values)."""
    return "" if amount is None else fen_to_yuan_text(int(amount))


@register.filter
def type_label(code: str) -> str:
    return labels.event_label(code)


@register.filter
def auth_label(code: str) -> str:
    """``ALLOCATION_FEE`` → what the authorisation lets the platform do, in the page's language."""
    return labels.auth_label(code)


@register.filter
def get_item(mapping: dict, key: str):
    return mapping.get(key, key)
