"""Numbers for people, the same in Chinese and English pages: ¥1,234.56 and 1.25%."""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal

from django import template

from wanxin.core.money import format_fen

register = template.Library()


@register.filter
def money(fen: int | None) -> str:
    """``123456`` (fen) → ``¥1,234.56``."""
    return "" if fen is None or fen == "" else format_fen(int(fen))


@register.filter
def percent(fraction: Decimal | float | None, places: int = 2) -> str:
    """``Decimal("0.0125")`` → ``1.25%`` (rounded half up for display)."""
    if fraction is None or fraction == "":
        return ""
    value = (Decimal(str(fraction)) * 100).quantize(Decimal(1).scaleb(-int(places)), rounding=ROUND_HALF_UP)
    return f"{value:,}%"
