from __future__ import annotations

from django import template

from wanxin.core.money import format_fen

register = template.Library()


@register.filter
def figure(value, unit: str) -> str:
    """A figure as people read it: money in yuan, a rate with its percent sign."""
    if value is None:
        return "—"
    if unit == "fen":
        return format_fen(int(value))
    if unit == "percent":
        return f"{value}%"
    return str(value)
