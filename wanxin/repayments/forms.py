"""The calculator page's form: it collects what the visitor typed (yuan and percent); the
domain builds the schedule. Labels and messages are translatable."""

from __future__ import annotations

from decimal import Decimal

from django import forms
from django.utils.text import format_lazy
from django.utils.translation import gettext_lazy as _

from wanxin.core.money import format_fen
from wanxin.inputs import YuanField
from wanxin.lending.labels import method_choices

from . import domain

_AMOUNT_TOO_BIG = format_lazy(_("The amount must be at most {max}."), max=format_fen(domain.MAX_AMOUNT))
# These are %-formatted with parameters by Django's validators: hence %%.
_RATE_TOO_BIG = _("The annual rate must be at most 36%%.")
_TERM = format_lazy(_("The term must be a whole number of months from {min} to {max}."),
                    min=domain.MIN_MONTHS, max=domain.MAX_MONTHS)


class CalculatorForm(forms.Form):
    # The one money input (``wanxin.inputs.YuanField``, ``core.money.parse_yuan`` rules): fen.
    amount = YuanField(
        label=_("Amount (yuan)"), maximum=domain.MAX_AMOUNT,
        error_messages={
            "required": _("Enter the amount in yuan."),
            "invalid": _("Enter the amount in yuan, for example 10000 or 99.50."),
            **dict.fromkeys(("negative", "zero", "too_small"), _("The amount must be at least ¥0.01.")),
            "decimals": _("The amount can have at most 2 decimal places (whole fen)."),
            "too_large": _AMOUNT_TOO_BIG,
        })
    rate = forms.DecimalField(
        label=_("Annual rate (%)"), min_value=Decimal(0), max_value=domain.MAX_ANNUAL_RATE * 100, max_digits=7,
        decimal_places=domain.RATE_DECIMAL_PLACES - 2,
        widget=forms.TextInput(attrs={"inputmode": "decimal", "autocomplete": "off"}),
        error_messages={
            "required": _("Enter the annual rate in percent."),
            "invalid": _("Enter the annual rate in percent, for example 12 or 9.6."),
            "min_value": _("The annual rate must not be negative."),
            "max_value": _RATE_TOO_BIG,
            "max_decimal_places": _("The annual rate can have at most 4 decimal places (in percent)."),
            "max_digits": _RATE_TOO_BIG,
            "max_whole_digits": _RATE_TOO_BIG,
        })
    months = forms.IntegerField(
        label=_("Term (months)"), min_value=domain.MIN_MONTHS, max_value=domain.MAX_MONTHS,
        widget=forms.NumberInput(attrs={"min": domain.MIN_MONTHS, "max": domain.MAX_MONTHS}),
        error_messages={key: _TERM for key in ("required", "invalid", "min_value", "max_value")})
    method = forms.ChoiceField(
        label=_("Repayment method"), choices=method_choices,
        error_messages={"required": _("Choose a repayment method."),
                        "invalid_choice": _("Choose one of the repayment methods listed.")})
    start = forms.DateField(label=_("First day (optional, for due dates)"), required=False,
                            widget=forms.DateInput(attrs={"type": "date"}),
                            error_messages={"invalid": _("Enter a date like 2025-01-31.")})

    def schedule_input(self) -> tuple[int, Decimal, int, str]:
        """(amount in fen, annual rate as a fraction, months, method) from the cleaned data."""
        data = self.cleaned_data
        return data["amount"], data["rate"] / 100, data["months"], data["method"]
