"""Page forms of the kyc app (customer side and reviewer side)."""

from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _

from wanxin.i18n import translated

from . import domain
from .models import KycDocument


class YuanField(forms.Field):
    """An amount typed in yuan; cleaned to integer fen."""

    widget = forms.TextInput(attrs={"inputmode": "decimal", "maxlength": 20})

    def to_python(self, value):
        if value in self.empty_values:
            return None
        if len(str(value)) > 20:
            raise forms.ValidationError(_("This amount is too long."))
        try:
            return domain.parse_yuan(str(value))
        except domain.KycError as exc:
            raise forms.ValidationError(translated(exc)) from exc


class DeclarationForm(forms.Form):
    real_name = forms.CharField(max_length=40, label=_("Real name (as on your ID card)"))
    id_number = forms.CharField(max_length=18, min_length=18, label=_("Resident ID number"))
    annual_income = YuanField(label=_("Annual income (yuan)"))
    assets = YuanField(label=_("Total assets (yuan)"))

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
