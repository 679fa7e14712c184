"""Page forms: they collect what the customer typed (amounts in yuan); the selectors and
services decide."""

from __future__ import annotations

from django import forms
from django.conf import settings
from django.utils.translation import gettext_lazy as _

from wanxin.inputs import YuanField

from .models import Product


def _max_fen() -> int:
    return settings.FUNDS_MAX_AMOUNT_FEN * 100


class QuoteForm(forms.Form):
    """The customer's choice on one product: deposit, multiple, duration and a wished start."""

    deposit = YuanField(label=_("Deposit (yuan)"), maximum=_max_fen)
    multiple = forms.TypedChoiceField(label=_("Leverage multiple"), coerce=int)
    duration = forms.TypedChoiceField(label=_("Duration"), coerce=int)
    start = forms.DateField(label=_("Start (optional: the first trading day from today)"), required=False,
                            widget=forms.DateInput(attrs={"type": "date"}))

    def __init__(self, *args, product: Product, **kwargs):
        super().__init__(*args, **kwargs)
        terms = product.terms()
        self.fields["multiple"].choices = [(m, f"×{m}") for m in terms.multiples]
        unit = _("trading days") if product.type == "DAILY" else _("months")
        self.fields["duration"].choices = [(d, f"{d} {unit}") for d in sorted(terms.durations)]


class ApplyForm(forms.Form):
    """The confirmed quote, as the quote page carries it (the deposit in fen)."""

    product = forms.IntegerField(widget=forms.HiddenInput)
    deposit = forms.IntegerField(widget=forms.HiddenInput, min_value=1)
    multiple = forms.IntegerField(widget=forms.HiddenInput)
    duration = forms.IntegerField(widget=forms.HiddenInput)
    pay_risk_fund = forms.BooleanField(label=_("Pay the risk fund now too"), required=False, initial=True)
    token = forms.CharField(widget=forms.HiddenInput, required=False, max_length=64)
