"""Risk on the review pages (``{% risk_panel customer %}``: the borrower score with its
breakdown, blacklist matches now and the customer's latest rule hits) and display helpers.

A template tag, not an import: kyc and lending sit below/above risk, and their review
templates load this library, so no app imports risk for its pages."""

from __future__ import annotations

from django import template
from django.utils.translation import gettext as _

from wanxin.core.money import format_fen

from .. import domain, selectors, services

register = template.Library()


@register.inclusion_tag("risk/panel.html", takes_context=True)
def risk_panel(context, customer) -> dict:
    if customer is None or not getattr(customer, "pk", None):
        return {"customer": None}
    facts, _secret = selectors.customer_facts(customer)
    checks = [(c, [(h["action"], services.reason(h)) for h in c.hits])
              for c in selectors.checks_with_hits_of(customer.pk)]
    return {
        "customer": customer, "score": facts["score"],
        "breakdown": [(_(domain.FACTOR_LABELS[domain.Factor(f)]), band, points)
                      for f, band, points in facts["score_breakdown"]],
        "matches": [(h.action, _(h.template) % {k: _(v) for k, v in h.params.items()})
                    for h in selectors.blacklist_matches(customer)],
        "checks": checks, "perms": context.get("perms"),
    }


@register.filter
def rule_values(rule) -> str:
    """A rule's values in words, e.g. ``¥100,000.00`` or ``5 in 60 minutes``."""
    parts = []
    if rule.amount is not None:
        parts.append(format_fen(rule.amount))
    if rule.percent is not None:
        parts.append(f"{rule.percent.normalize():f} %")
    if rule.multiple is not None:
        parts.append(_("%(multiple)s×") % {"multiple": f"{rule.multiple.normalize():f}"})
    if rule.count is not None:
        if rule.window_minutes is not None:
            parts.append(_("%(count)s in %(minutes)s minutes") % {"count": rule.count, "minutes": rule.window_minutes})
        else:
            parts.append(str(rule.count))
    if rule.min_age is not None:
        parts.append(_("%(min)s to %(max)s years") % {"min": rule.min_age, "max": rule.max_age})
    return ", ".join(parts)


@register.filter
def band_lower(band) -> str:
    """A points-table row's lower bound as typed in its form: years, or yuan."""
    if band.factor == domain.Factor.AGE:
        return str(band.lower)
    return f"{band.lower // 100}.{band.lower % 100:02d}"
