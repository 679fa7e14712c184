"""The calculator page's form: it collects what the visitor typed (yuan and percent); the
domain builds the schedule."""

from __future__ import annotations

from decimal import Decimal

from django import forms

from wanxin.core.money import FEN_PER_YUAN, format_fen

from . import domain

MAX_YUAN = Decimal(domain.MAX_AMOUNT) / FEN_PER_YUAN


class CalculatorForm(forms.Form):
    amount = forms.DecimalField(
        label="Amount (yuan)", min_value=Decimal("0.01"), max_value=MAX_YUAN, max_digits=14, decimal_places=2,
        widget=forms.TextInput(attrs={"inputmode": "decimal", "autocomplete": "off"}),
        error_messages={
            "required": "Enter the amount in yuan.",
            "invalid": "Enter the amount in yuan, for example 10000 or 99.50.",
            "min_value": "The amount must be at least ¥0.01.",
            "max_value": f"The amount must be at most {format_fen(domain.MAX_AMOUNT)}.",
            "max_decimal_places": "The amount can have at most 2 decimal places (whole fen).",
            "max_digits": f"The amount must be at most {format_fen(domain.MAX_AMOUNT)}.",
            "max_whole_digits": f"The amount must be at most {format_fen(domain.MAX_AMOUNT)}.",
        })
    rate = forms.DecimalField(
        label="Annual rate (%)", min_value=Decimal(0), max_value=domain.MAX_ANNUAL_RATE * 100, max_digits=7,
        decimal_places=domain.RATE_DECIMAL_PLACES - 2,
        widget=forms.TextInput(attrs={"inputmode": "decimal", "autocomplete": "off"}),
        error_messages={
            "required": "Enter the annual rate in percent.",
            "invalid": "Enter the annual rate in percent, for example 12 or 9.6.",
            "min_value": "The annual rate must not be negative.",
            # These three messages are %-formatted with parameters: hence %%.
            "max_value": "The annual rate must be at most 36%%.",
            "max_decimal_places": "The annual rate can have at most 4 decimal places (in percent).",
            "max_digits": "The annual rate must be at most 36%%.",
            "max_whole_digits": "The annual rate must be at most 36%%.",
        })
    months = forms.IntegerField(
        label="Term (months)", min_value=domain.MIN_MONTHS, max_value=domain.MAX_MONTHS,
        widget=forms.NumberInput(attrs={"min": domain.MIN_MONTHS, "max": domain.MAX_MONTHS}),
        error_messages={key: f"The term must be a whole number of months from {domain.MIN_MONTHS} to "
                             f"{domain.MAX_MONTHS}." for key in ("required", "invalid", "min_value", "max_value")})
    method = forms.ChoiceField(
        label="Repayment method", choices=[(code, f"{zh} {en}") for code, (en, zh) in domain.METHODS.items()],
        error_messages={"required": "Choose a repayment method.",
                        "invalid_choice": "Choose one of the repayment methods listed."})
    start = forms.DateField(label="First day (optional, for due dates)", required=False,
                            widget=forms.DateInput(attrs={"type": "date"}),
                            error_messages={"invalid": "Enter a date like 2025-01-31."})

    def schedule_input(self) -> tuple[int, Decimal, int, str]:
        """(amount in fen, annual rate as a fraction, months, method) from the cleaned data."""
        data = self.cleaned_data
        return int(data["amount"] * FEN_PER_YUAN), data["rate"] / 100, data["months"], data["method"]
