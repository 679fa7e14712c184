"""The date range of the statistics page: both ends are Beijing days, from ≤ to, neither in
the future, at most ``MAX_SPAN_DAYS`` days; blank: the last 30 days."""

from __future__ import annotations

import datetime as dt

from django import forms
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from wanxin.inputs import DateField

from .selectors import MAX_SPAN_DAYS, DateRange

DEFAULT_DAYS = 30


class RangeForm(forms.Form):
    date_from = DateField(label=_("From"), required=False, widget=forms.DateInput(attrs={"type": "date"}),
                          error_messages={"invalid": _("Enter a date like 2026-01-31.")})
    date_to = DateField(label=_("To"), required=False, widget=forms.DateInput(attrs={"type": "date"}),
                        error_messages={"invalid": _("Enter a date like 2026-01-31.")})

    def clean(self):
        data = super().clean()
        if self.errors:
            return data
        today = timezone.localdate()
        date_to = data.get("date_to") or today
        date_from = data.get("date_from") or date_to - dt.timedelta(days=DEFAULT_DAYS - 1)
        if date_to > today:
            self.add_error("date_to", _("The end date must not be in the future."))
        elif date_from > date_to:
            self.add_error("date_from", _("The start date must not be after the end date."))
        elif (date_to - date_from).days + 1 > MAX_SPAN_DAYS:
            self.add_error("date_from", _("Choose at most %(days)s days.") % {"days": MAX_SPAN_DAYS})
        data["range"] = DateRange(date_from, date_to)
        return data

    def date_range(self) -> DateRange | None:
        """The valid range (the default when nothing was asked), or None."""
        return self.cleaned_data["range"] if self.is_valid() else None
