"""Page forms of the kyc app (customer side and reviewer side)."""

from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _

from wanxin.core.money import MAX_AMOUNT_FEN
from wanxin.inputs import YuanField

from .models import KycDocument

# One message for every malformed declaration amount; zero is a valid income or asset figure.
_TYPED = _("Enter an amount in yuan, e.g. 120000 or 120000.50 (at most two decimals).")


def _yuan(label) -> YuanField:
    return YuanField(label=label, minimum=0, maximum=MAX_AMOUNT_FEN,
                     widget=forms.TextInput(attrs={"inputmode": "decimal", "maxlength": 20}),
                     error_messages={"invalid": _TYPED, "negative": _TYPED, "decimals": _TYPED,
                                     "too_large": _("This amount is too large.")})


class DeclarationForm(forms.Form):
    real_name = forms.CharField(max_length=40, label=_("Real name (as on your ID card)"))
    id_number = forms.CharField(max_length=18, min_length=18, label=_("Resident ID number"))
    annual_income = _yuan(_("Annual income (yuan)"))
    assets = _yuan(_("Total assets (yuan)"))

    def __init__(self, *args, ask_identity: bool = True, **kwargs):
        super().__init__(*args, **kwargs)
        if not ask_identity:
            # The depository account already holds the customer's name and ID number.
            del self.fields["real_name"], self.fields["id_number"]


class UploadForm(forms.Form):
    kind = forms.ChoiceField(choices=KycDocument.Kind.choices, label=_("Document kind"))
    file = forms.FileField(label=_("File (JPEG, PNG or PDF; ID cards as images)"))


class ReviewForm(forms.Form):
    reason = forms.CharField(widget=forms.Textarea(attrs={"rows": 3}), required=False, max_length=500,
                             label=_("Reason (required to reject; the customer reads it)"))
