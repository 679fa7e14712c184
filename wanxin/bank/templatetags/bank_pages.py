"""Filters of the bank's customer pages."""

from __future__ import annotations

from django import template

from wanxin.bank.labels import AUTH_LABELS, RESULT_TEXT

register = template.Library()


@register.filter
def auth_label(code: str) -> str:
    return str(AUTH_LABELS.get(code, code))


@register.filter
def result_text(req) -> str:
    """A finished request's outcome in the page's language (the protocol message as a fallback)."""
    text = RESULT_TEXT.get(req.resp_code)
    if text is not None:
        return str(text)
    return ((req.response or {}).get("respMsg") or "").capitalize()
