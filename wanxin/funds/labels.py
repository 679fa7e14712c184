"""What people are shown for the codes of fund records and bank authorisations (never the code)."""

from __future__ import annotations

from django.utils.functional import lazy
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from wanxin.core.money import format_fen

from .domain import EVENT_TYPE_BY_CODE, EVENT_TYPES, CommissionRule

# The authorisations a depository account can grant the platform (PROTOCOL authList).
AUTH_LABELS = {
    "TENDER": _("Invest on my behalf"),
    "REPAYMENT": _("Repay my loans"),
    "ALLOCATION": _("Stock allocation deposit"),
    "ALLOCATION_FEE": _("Allocation fees"),
    "ALLOCATION_SETTLE": _("Allocation settlement"),
    "COMPENSATION": _("Compensation"),
}


def event_label(code: str) -> str:
    """A fund record's type in the reader's language (labels are marked in funds.domain)."""
    kind = EVENT_TYPE_BY_CODE.get(code)
    return gettext(kind.label) if kind else code


def auth_label(code: str) -> str:
    return str(AUTH_LABELS.get(code, code))


event_label_lazy = lazy(event_label, str)


def event_choices() -> list[tuple[str, str]]:
    return [(t.code, event_label_lazy(t.code)) for t in EVENT_TYPES]


def describe_commission(rule: CommissionRule) -> str:
    """``0.1% of the amount, at least ¥2.00`` in the reader's language."""
    parts = []
    if rule.rate:
        percent = f"{(rule.rate * 100).normalize():f}"
        parts.append(gettext("%(percent)s%% of the amount") % {"percent": percent})
    if rule.fixed:
        parts.append(format_fen(rule.fixed))
    text = " + ".join(parts) or gettext("none")
    if rule.minimum:
        text = gettext("%(rule)s, at least %(minimum)s") % {"rule": text, "minimum": format_fen(rule.minimum)}
    if rule.maximum:
        text = gettext("%(rule)s, at most %(maximum)s") % {"rule": text, "maximum": format_fen(rule.maximum)}
    return text
