"""Page forms: they collect what the customer typed; the services decide."""

from __future__ import annotations

import secrets

from django import forms

from wanxin import inputs

from .domain import EVENT_TYPES
from .models import BANKS

ROLE_CHOICES = [("INVESTOR", "I invest"), ("BORROWER", "I borrow"), ("BOTH", "Both")]


class OpenAccountForm(forms.Form):
    full_name = forms.CharField(label="Real name (as on your ID card)", max_length=50)
    id_number = forms.CharField(label="Resident ID number", max_length=18, min_length=18,
                                widget=forms.TextInput(attrs={"autocomplete": "off", "inputmode": "text"}))
    bank_code = forms.ChoiceField(label="Bank", choices=[("", "Choose your card's bank"), *BANKS])
    card_number = forms.CharField(label="Debit card number", max_length=23,
                                  widget=forms.TextInput(attrs={"autocomplete": "off", "inputmode": "numeric"}))
    role = forms.ChoiceField(label="You use Wanxin to", choices=ROLE_CHOICES)


class AmountForm(forms.Form):
    amount = forms.CharField(label="Amount (yuan)", max_length=40,
                             widget=forms.TextInput(attrs={"inputmode": "decimal", "autocomplete": "off",
                                                           "placeholder": "e.g. 1000.00"}))
    token = forms.CharField(widget=forms.HiddenInput, required=False, max_length=64)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if not self.is_bound:
            self.initial.setdefault("token", secrets.token_urlsafe(16))


class RecordFilterForm(forms.Form):
    type = forms.ChoiceField(label="Type", required=False,
                             choices=[("", "All types"), *[(t.code, f"{t.label} {t.label_zh}") for t in EVENT_TYPES]])
    date_from = inputs.DateField(label="From", required=False, widget=forms.DateInput(attrs={"type": "date"}))
    date_to = inputs.DateField(label="To", required=False, widget=forms.DateInput(attrs={"type": "date"}))
