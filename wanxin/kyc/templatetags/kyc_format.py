"""Display helpers: money from fen and masks for personal data."""

from django import template

from wanxin.core import identity
from wanxin.core.money import format_fen

register = template.Library()


@register.filter
def fen(value):
    return "—" if value is None or value == "" else format_fen(int(value))


@register.filter
def mask_id(value):
    return identity.mask_id_number(value or "")


@register.filter
def mask_name(value):
    return identity.mask_name(value or "")


@register.filter
def mask_mobile(value):
    return identity.mask_mobile(value or "") if value else "—"


@register.filter
def kilobytes(value):
    return f"{(int(value) + 1023) // 1024:,} KB"
