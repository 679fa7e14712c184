"""Forms of the lending pages; amounts are typed in yuan and become integer fen here."""

from __future__ import annotations

from decimal import Decimal

from django import forms
from django.conf import settings

from wanxin.funds.domain import AmountError, yuan_to_fen

from . import domain


class YuanField(forms.CharField):
    def clean(self, value):
        value = super().clean(value)
        if value in (None, ""):
            return None
        try:
            return yuan_to_fen(value, maximum=settings.FUNDS_MAX_AMOUNT_FEN * 100)
        except AmountError as exc:
            raise forms.ValidationError(str(exc)) from exc


class ApplicationForm(forms.Form):
    amount = YuanField(label="Amount (yuan)")
    months = forms.IntegerField(label="Term (months)", min_value=1, max_value=360)
    method = forms.ChoiceField(label="Repayment method", choices=list(domain.METHOD_LABELS.items()))
    purpose = forms.CharField(label="Purpose", max_length=100)
    description = forms.CharField(label="Description", widget=forms.Textarea(attrs={"rows": 4}), required=False,
                                  max_length=2000)


class HallForm(forms.Form):
    q = forms.CharField(label="Search", required=False, max_length=100)
    status = forms.ChoiceField(required=False, choices=[("", "Any status")] + [(s, s.title())
                                                                                for s in domain.PUBLIC_STATUSES])
    method = forms.ChoiceField(required=False, choices=[("", "Any method"), *domain.METHOD_LABELS.items()])
    rate_min = forms.DecimalField(label="Rate from (%)", required=False, min_value=0, max_value=36,
                                  decimal_places=4)
    rate_max = forms.DecimalField(label="to (%)", required=False, min_value=0, max_value=36, decimal_places=4)
    months_min = forms.IntegerField(label="Term from", required=False, min_value=1, max_value=360)
    months_max = forms.IntegerField(label="to", required=False, min_value=1, max_value=360)
    amount_min = YuanField(label="Amount from (yuan)", required=False)
    amount_max = YuanField(label="to", required=False)
    sort = forms.ChoiceField(required=False, choices=[
        ("newest", "Newest"), ("-rate", "Rate ↓"), ("rate", "Rate ↑"), ("term", "Term ↑"), ("-term", "Term ↓"),
        ("amount", "Amount ↑"), ("-amount", "Amount ↓")])

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
    amount = YuanField(label="Amount (yuan)")
    token = forms.CharField(required=False, max_length=64, widget=forms.HiddenInput)


class TermsForm(forms.Form):
    borrower_rate = forms.DecimalField(label="Borrower rate (%)", min_value=0, max_value=36, decimal_places=4)
    investor_rate = forms.DecimalField(label="Investor rate (%)", min_value=0, max_value=36, decimal_places=4)
    service_fee_rate = forms.DecimalField(label="Service fee (% of the loan)", min_value=0, max_value=20,
                                          decimal_places=4)
    window_days = forms.IntegerField(label="Fundraising window (days)", min_value=1, max_value=30)
    min_investment = YuanField(label="Minimum investment (yuan)")
    increment = YuanField(label="Increment (yuan)")
    per_investor_cap = YuanField(label="Per-investor cap (yuan)")

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
