"""Forms of the risk officers' pages. They only parse; every rule is checked by the services."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from django import forms
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from wanxin import inputs
from wanxin.core.bounds import MAX_DATE, MIN_DATE
from wanxin.kyc import domain as kyc_domain

from . import domain
from .models import Action, BlacklistEntry, RuleCheck, ScoreBand

DATETIME_FORMATS = ["%Y-%m-%dT%H:%M", "%Y-%m-%d %H:%M", "%Y-%m-%d"]
BIG = 10**15


class Moment(forms.DateTimeField):
    widget = forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M")

    def __init__(self, **kwargs):
        super().__init__(input_formats=DATETIME_FORMATS, required=False, **kwargs)

    def clean(self, value):
        moment = super().clean(value)
        if moment is not None and not MIN_DATE <= timezone.localtime(moment).date() <= MAX_DATE:
            raise forms.ValidationError(_("Choose a date between %(min)s and %(max)s.")
                                        % {"min": MIN_DATE, "max": MAX_DATE})
        return moment


def _int(label, **kwargs) -> forms.IntegerField:
    return forms.IntegerField(label=label, required=False, min_value=-BIG, max_value=BIG, **kwargs)


class RuleForm(forms.Form):
    scope = forms.CharField(label=_("Applies to (credit rating, or ip / phone)"), required=False, max_length=8)
    action = forms.ChoiceField(label=_("When hit"), choices=Action.choices)
    # Negative amounts pass, for the service to refuse with the rule's own message.
    amount = inputs.YuanField(label=_("Amount limit (yuan)"), required=False, minimum=-BIG, maximum=BIG)
    count = _int(_("Count"))
    percent = forms.DecimalField(label=_("Share (%)"), required=False, max_digits=9, decimal_places=4)
    multiple = forms.DecimalField(label=_("Multiple"), required=False, max_digits=9, decimal_places=4)
    window_minutes = _int(_("Window (minutes)"))
    min_age = _int(_("Lowest age"))
    max_age = _int(_("Highest age"))
    effective_from = Moment(label=_("In force from (empty: now)"))
    effective_to = Moment(label=_("In force until (empty: no end)"))
    note = forms.CharField(label=_("Note"), required=False, max_length=300)

    def __init__(self, *args, key: str, **kwargs):
        super().__init__(*args, **kwargs)
        spec = domain.SPECS[domain.Key(key)]
        for name in domain.PARAM_FIELDS:  # only the values this kind of rule takes
            if name not in spec.fields:
                del self.fields[name]
        if spec.scopes:
            self.fields["scope"] = forms.ChoiceField(label=self.fields["scope"].label,
                                                     choices=[(s, s) for s in spec.scopes])
        else:
            del self.fields["scope"]
        if key == domain.Key.MIN_SCORE:
            self.fields["count"].label = _("Lowest score (points)")
        elif key == domain.Key.CONCURRENT_LOANS:
            self.fields["count"].label = _("Most loans at once")
        elif "count" in self.fields:
            self.fields["count"].label = _("Most allowed in the window")

    def params(self) -> domain.Params:
        d = self.cleaned_data
        return domain.Params(**{name: d.get(name) for name in domain.PARAM_FIELDS})


class BlacklistForm(forms.Form):
    kind = forms.ChoiceField(label=_("What"), choices=BlacklistEntry.Kind.choices)
    value = forms.CharField(label=_("Number"), max_length=40)
    action = forms.ChoiceField(label=_("When hit"), choices=Action.choices)
    effective_from = Moment(label=_("From (empty: now)"))
    effective_to = Moment(label=_("Until (empty: no end)"))
    note = forms.CharField(label=_("Note (for officers)"), required=False, max_length=300)


DOCUMENT_CHOICES = [("", "—")] + [(k.value, kyc_domain.KIND_LABELS[k]) for k in kyc_domain.Kind]


class ScoreBandForm(forms.Form):
    factor = forms.ChoiceField(label=_("Factor"), choices=ScoreBand.Factor.choices)
    # Typed like every money input (YuanField, cleaned to fen); an age's years are its yuan.
    # Negative values pass, for the domain to refuse with its own message.
    lower = inputs.YuanField(label=_("From (yuan, or years for age)"), required=False, minimum=-BIG, maximum=BIG)
    document = forms.ChoiceField(label=_("Document"), choices=DOCUMENT_CHOICES, required=False)
    points = forms.IntegerField(label=_("Points"), min_value=-BIG, max_value=BIG)

    def lower_units(self) -> int | None:
        d = self.cleaned_data
        if d.get("lower") is None:
            return None
        # Whole years, truncated toward zero (as the typed decimal always was).
        return int(Decimal(d["lower"]) / 100) if d["factor"] == domain.Factor.AGE else d["lower"]


class CheckFilterForm(forms.Form):
    kind = forms.ChoiceField(label=_("Kind"), required=False, choices=[("", _("All")), *RuleCheck.Kind.choices])
    outcome = forms.ChoiceField(label=_("Outcome"), required=False,
                                choices=[("", _("All")), *RuleCheck.Outcome.choices])
    date_from = inputs.DateField(label=_("From"), required=False, widget=forms.DateInput(attrs={"type": "date"}))
    date_to = inputs.DateField(label=_("To"), required=False, widget=forms.DateInput(attrs={"type": "date"}))
    customer = forms.CharField(label=_("Customer"), required=False, max_length=150)


def local_default(value: dt.datetime | None) -> str:
    return timezone.localtime(value).strftime("%Y-%m-%dT%H:%M") if value else ""

