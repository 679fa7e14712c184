"""Page forms: they collect what the customer typed; the services decide."""

from __future__ import annotations

import secrets

from django import forms
from django.conf import settings
from django.utils.translation import gettext_lazy as _

from wanxin import inputs

from .labels import event_choices
from .models import BANKS

ROLE_CHOICES = [("INVESTOR", _("I invest")), ("BORROWER", _("I borrow")), ("BOTH", _("Both"))]


class OpenAccountForm(forms.Form):
    full_name = forms.CharField(label=_("Real name (as on your ID card)"), max_length=50)
    id_number = forms.CharField(label=_("Resident ID number"), max_length=18, min_length=18,
                                widget=forms.TextInput(attrs={"autocomplete": "off", "inputmode": "text"}))
    bank_code = forms.ChoiceField(label=_("Bank"), choices=[("", _("Choose your card's bank")), *BANKS])
    card_number = forms.CharField(label=_("Debit card number"), max_length=23,
                                  widget=forms.TextInput(attrs={"autocomplete": "off", "inputmode": "numeric"}))
    role = forms.ChoiceField(label=_("You use Wanxin to"), choices=ROLE_CHOICES)

    def __init__(self, *args, ask_role: bool = True, **kwargs):
        super().__init__(*args, **kwargs)
        if not ask_role:
            # Registration already asked whether the customer invests, borrows or both.
            del self.fields["role"]


class AmountForm(forms.Form):
    # The one money input (``core.money.parse_yuan`` rules): cleaned to int fen.
    amount = inputs.YuanField(label=_("Amount (yuan)"), max_length=40,
                              maximum=lambda: settings.FUNDS_MAX_AMOUNT_FEN,
                              widget=forms.TextInput(attrs={"inputmode": "decimal", "autocomplete": "off",
                                                            "placeholder": _("e.g. 1000.00")}))
    token = forms.CharField(widget=forms.HiddenInput, required=False, max_length=64)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if not self.is_bound:
            self.initial.setdefault("token", secrets.token_urlsafe(16))


class RecordFilterForm(forms.Form):
    type = forms.ChoiceField(label=_("Type"), required=False, choices=[("", _("All types")), *event_choices()])
    date_from = inputs.DateField(label=_("From"), required=False, widget=forms.DateInput(attrs={"type": "date"}))
    date_to = inputs.DateField(label=_("To"), required=False, widget=forms.DateInput(attrs={"type": "date"}))
