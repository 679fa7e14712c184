"""Forms of the lending pages; amounts are typed in yuan and become integer fen here.
Labels and messages are translatable; an error names its field as the page labels it."""

from __future__ import annotations

from decimal import Decimal

from django import forms
from django.conf import settings
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from wanxin.inputs import YuanField

from . import domain
from .labels import method_choices, status_label


def _max_fen() -> int:
    return settings.FUNDS_MAX_AMOUNT_FEN * 100


def _yuan(label, *, required: bool = True) -> YuanField:
    return YuanField(label=label, maximum=_max_fen, required=required,
                     error_messages={"required": _("Enter the amount in yuan.")})


def _percent(label, *, maximum: int, required: bool = True) -> forms.DecimalField:
    return forms.DecimalField(
        label=label, required=required, min_value=0, max_value=maximum, decimal_places=4,
        widget=forms.TextInput(attrs={"inputmode": "decimal"}),
        error_messages={
            "required": _("Enter a percentage."),
            "invalid": _("Enter a percentage such as 9.5."),
            "min_value": _("Enter a percentage of at least 0."),
            "max_value": _("Enter a percentage of at most %(limit_value)s."),
            "max_decimal_places": _("Use at most 4 decimal places."),
        })


def _months(label, *, required: bool = True) -> forms.IntegerField:
    return forms.IntegerField(label=label, required=required, min_value=1, max_value=360,
                              error_messages={"required": _("Enter a number of months."),
                                              "invalid": _("Enter a whole number of months."),
                                              "min_value": _("Enter at least 1 month."),
                                              "max_value": _("Enter at most 360 months.")})


class ApplicationForm(forms.Form):
    amount = _yuan(_("Amount (yuan)"))
    months = _months(_("Term (months)"))
    method = forms.ChoiceField(label=_("Repayment method"), choices=method_choices,
                               error_messages={"required": _("Choose a repayment method."),
                                               "invalid_choice": _("Choose one of the repayment methods listed.")})
    purpose = forms.CharField(label=_("Purpose"), max_length=100,
                              error_messages={"required": _("Say what the loan is for."),
                                              "max_length": _("Use at most 100 characters.")})
    description = forms.CharField(label=_("Description"), widget=forms.Textarea(attrs={"rows": 4}), required=False,
                                  max_length=2000, error_messages={"max_length": _("Use at most 2000 characters.")})


def _status_choices():
    return [("", _("Any status"))] + [(s, status_label(s)) for s in domain.PUBLIC_STATUSES]


def _method_filter_choices():
    return [("", _("Any method")), *method_choices()]


class HallForm(forms.Form):
    q = forms.CharField(label=_("Search"), required=False, max_length=100)
    status = forms.ChoiceField(label=_("Status"), required=False, choices=_status_choices)
    method = forms.ChoiceField(label=_("Repayment method"), required=False, choices=_method_filter_choices)
    rate_min = _percent(_("Rate from (%)"), maximum=36, required=False)
    rate_max = _percent(_("Rate to (%)"), maximum=36, required=False)
    months_min = _months(_("Term from (months)"), required=False)
    months_max = _months(_("Term to (months)"), required=False)
    amount_min = _yuan(_("Amount from (yuan)"), required=False)
    amount_max = _yuan(_("Amount to (yuan)"), required=False)
    sort = forms.ChoiceField(label=_("Sort"), required=False, choices=[
        ("newest", _("Newest")), ("-rate", _("Rate ↓")), ("rate", _("Rate ↑")), ("term", _("Term ↑")),
        ("-term", _("Term ↓")), ("amount", _("Amount ↑")), ("-amount", _("Amount ↓"))])

    def filters(self):
        from .selectors import HallFilter

        d = self.cleaned_data if self.is_valid() else {}
        pct = Decimal(100)
        return HallFilter(
            q=d.get("q") or "", status=d.get("status") or "", method=d.get("method") or "",
            rate_min=d["rate_min"] / pct if d.get("rate_min") is not None else None,
            rate_max=d["rate_max"] / pct if d.get("rate_max") is not None else None,
            months_min=d.get("months_min"), months_max=d.get("months_max"),
            amount_min=d.get("amount_min"), amount_max=d.get("amount_max"), sort=d.get("sort") or "newest")


class InvestForm(forms.Form):
    amount = _yuan(_("Amount (yuan)"))
    token = forms.CharField(required=False, max_length=64, widget=forms.HiddenInput)


class TermsForm(forms.Form):
    borrower_rate = _percent(_("Borrower rate (%)"), maximum=36)
    investor_rate = _percent(_("Investor rate (%)"), maximum=36)
    service_fee_rate = _percent(_("Service fee (%)"), maximum=20)
    window_days = forms.IntegerField(label=_("Fundraising window (days)"), min_value=1, max_value=30,
                                     error_messages={"required": _("Enter a number of days."),
                                                     "invalid": _("Enter a whole number of days."),
                                                     "min_value": _("Enter 1 to 30 days."),
                                                     "max_value": _("Enter 1 to 30 days.")})
    min_investment = _yuan(_("Minimum investment (yuan)"))
    increment = _yuan(_("Increment (yuan)"))
    per_investor_cap = _yuan(_("Per-investor cap (yuan)"))

    def terms(self) -> domain.Terms:
        d, pct = self.cleaned_data, Decimal(100)
        return domain.Terms(
            borrower_rate=(d["borrower_rate"] / pct).quantize(Decimal("0.000001")),
            investor_rate=(d["investor_rate"] / pct).quantize(Decimal("0.000001")),
            service_fee_rate=(d["service_fee_rate"] / pct).quantize(Decimal("0.000001")),
            window_days=d["window_days"], min_investment=d["min_investment"], increment=d["increment"],
            per_investor_cap=d["per_investor_cap"])


class ReasonForm(forms.Form):
    reason = forms.CharField(max_length=300)


def percent_text(rate: Decimal) -> str:
    """A stored rate as the percent a person types: ``0.120000`` → ``"12"``, ``0.105`` → ``"10.5"``
    (the terms form accepts 4 decimals; the stored 6 are whole 0.0001 %)."""
    text = f"{(Decimal(rate) * 100).quantize(Decimal('0.0001')):f}"
    return text.rstrip("0").rstrip(".") if "." in text else text


def error_list(form: forms.Form) -> list[str]:
    """Each error once, prefixed by the label the page shows for its field."""
    seen: list[str] = []
    for name, errors in form.errors.items():
        label = form.fields[name].label if name in form.fields else None
        for error in errors:
            text = gettext("%(label)s: %(error)s") % {"label": label, "error": error} if label else str(error)
            if text not in seen:
                seen.append(text)
    return seen
