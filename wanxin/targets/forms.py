"""The filters of the target list: status, queue, creation dates, amount (yuan), borrower
and a search of loan number or name. Bad values are refused with a message naming the field."""

from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _

from wanxin.core.money import MAX_AMOUNT_FEN
from wanxin.inputs import DateField, YuanField
from wanxin.lending import domain
from wanxin.lending.labels import status_label

from . import selectors


def _status_choices():
    return [("", _("Any status"))] + [(s, status_label(s)) for s in domain.PROJECT_STATUSES]


def _queue_choices():
    return [("", _("Any"))] + [(code, label) for code, label in selectors.QUEUE_LABELS.items()]


class TargetFilterForm(forms.Form):
    q = forms.CharField(label=_("Search"), required=False, max_length=100,
                        widget=forms.TextInput(attrs={"placeholder": _("Loan number or name")}))
    status = forms.ChoiceField(label=_("Status"), required=False, choices=_status_choices,
                               error_messages={"invalid_choice": _("Choose one of the statuses listed.")})
    queue = forms.ChoiceField(label=_("Queue"), required=False, choices=_queue_choices,
                              error_messages={"invalid_choice": _("Choose one of the queues listed.")})
    date_from = DateField(label=_("Applied from"), required=False, widget=forms.DateInput(attrs={"type": "date"}),
                          error_messages={"invalid": _("Enter a date like 2026-01-31.")})
    date_to = DateField(label=_("Applied to"), required=False, widget=forms.DateInput(attrs={"type": "date"}),
                        error_messages={"invalid": _("Enter a date like 2026-01-31.")})
    amount_min = YuanField(label=_("Amount from (yuan)"), required=False, maximum=MAX_AMOUNT_FEN, minimum=0,
                           widget=forms.TextInput(attrs={"inputmode": "decimal"}))
    amount_max = YuanField(label=_("Amount to (yuan)"), required=False, maximum=MAX_AMOUNT_FEN, minimum=0,
                           widget=forms.TextInput(attrs={"inputmode": "decimal"}))
    borrower = forms.CharField(label=_("Borrower"), required=False, max_length=150,
                               widget=forms.TextInput(attrs={"placeholder": _("User name or depository number")}))

    def clean(self):
        data = super().clean()
        if data.get("date_from") and data.get("date_to") and data["date_from"] > data["date_to"]:
            self.add_error("date_to", _("The end date must not be before the start date."))
        low, high = data.get("amount_min"), data.get("amount_max")
        if low is not None and high is not None and low > high:
            self.add_error("amount_max", _("The largest amount must not be below the smallest."))
        return data

    def filters(self) -> selectors.TargetFilter:
        """The filter of a valid form (an invalid one filters nothing: the page says why)."""
        if not self.is_bound or not self.is_valid():
            return selectors.TargetFilter()
        d = self.cleaned_data
        return selectors.TargetFilter(q=d["q"].strip(), status=d["status"], queue=d["queue"],
                                      date_from=d["date_from"], date_to=d["date_to"], amount_min=d["amount_min"],
                                      amount_max=d["amount_max"], borrower=d["borrower"].strip())
