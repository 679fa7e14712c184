"""Display helpers of the back-office pages."""

import json

from django import template
from django.core.serializers.json import DjangoJSONEncoder

from wanxin.audit import display as audit_display
from wanxin.backoffice import labels

register = template.Library()


@register.filter
def as_json(value) -> str:
    """Before/after states of the audit log as raw JSON (for the record, not for reading)."""
    if value is None:
        return ""
    return json.dumps(value, cls=DjangoJSONEncoder, ensure_ascii=False, sort_keys=True, indent=1)


@register.filter
def readable_state(value) -> list[tuple[str, str]]:
    """An audit before/after state as (label, value) pairs: yuan, percent, status labels."""
    return audit_display.readable(value)


@register.filter
def action_label(code: str) -> str:
    return audit_display.action_label(code)


@register.filter
def target_label(code: str) -> str:
    return audit_display.target_label(code)


@register.filter
def role_label(name: str) -> str:
    return labels.role_label(name)
