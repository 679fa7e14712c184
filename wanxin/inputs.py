"""Bounded input types shared by pages, forms and the JSON API, for values that otherwise crash
deep inside: dates near the calendar's ends, numbers beyond what PostgreSQL stores, amounts
typed in yuan (``YuanField``, the one form field for them). (NUL
characters are refused for every request by ``wanxin.web.middleware``.)"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from decimal import Decimal
from typing import Annotated

from django import forms
from django.core.validators import MaxValueValidator, MinValueValidator
from django.utils.translation import gettext as _
from pydantic import Field

from wanxin.core import money
from wanxin.core.bounds import INT32_MAX, INT64_MAX, MAX_DATE, MIN_DATE
from wanxin.core.errors import WanxinError
from wanxin.i18n import translated

# Integers the API accepts: counts fit PostgreSQL ``integer``; fen fit ``bigint``.
SmallInt = Annotated[int, Field(ge=-INT32_MAX, le=INT32_MAX)]
Fen = Annotated[int, Field(ge=-INT64_MAX, le=INT64_MAX)]
# An annual rate (a fraction, 0.1 = 10%): finite, and with digits PostgreSQL NUMERIC compares.
Rate = Annotated[Decimal, Field(ge=-1000, le=1000, max_digits=12, decimal_places=6, allow_inf_nan=False)]
# A calendar date a query may name.
Date = Annotated[dt.date, Field(ge=MIN_DATE, le=MAX_DATE)]


class DateField(forms.DateField):
    """A form date limited to MIN_DATE..MAX_DATE, so date arithmetic on it cannot overflow."""

    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self.validators += [MinValueValidator(MIN_DATE), MaxValueValidator(MAX_DATE)]


class YuanField(forms.CharField):
    """An amount typed in yuan, cleaned to int fen by ``wanxin.core.money.parse_yuan`` within
    ``minimum``..``maximum`` fen (``maximum`` may be a function, read when cleaning, for a limit
    from settings; empty and not required: None). A form words a refusal its own
    way by giving ``error_messages`` keyed by ``AmountError.code`` (``invalid``, ``negative``,
    ``decimals``, ``too_large``...); otherwise the parser's message is shown translated."""

    def __init__(self, *, maximum: int | Callable[[], int], minimum: int = 1, **kwargs):
        self.maximum, self.minimum = maximum, minimum
        kwargs.setdefault("widget", forms.TextInput(attrs={"inputmode": "decimal", "autocomplete": "off"}))
        super().__init__(**kwargs)

    def clean(self, value):
        value = super().clean(value)
        if value in self.empty_values:
            return None
        try:
            maximum = self.maximum() if callable(self.maximum) else self.maximum
            return money.parse_yuan(value, maximum=maximum, minimum=self.minimum)
        except money.AmountError as exc:
            raise forms.ValidationError(self.error_messages.get(exc.code) or translated(exc), code=exc.code) from exc


def parse_date(value: str | None, name: str) -> dt.date | None:
    """A YYYY-MM-DD query value, or None when blank; refuses dates outside MIN..MAX_DATE."""
    if not value or not value.strip():
        return None
    try:
        day = dt.date.fromisoformat(value.strip())
    except ValueError as exc:
        raise WanxinError(_("The %(name)s must be a date like 2025-01-31.") % {"name": name},
                         code=name) from exc
    check_date(day, name)
    return day


def check_date(day: dt.date | None, name: str) -> dt.date | None:
    if day is not None and not MIN_DATE <= day <= MAX_DATE:
        raise WanxinError(_("The %(name)s must be between %(min)s and %(max)s.") % {
            "name": name, "min": MIN_DATE.isoformat(), "max": MAX_DATE.isoformat()}, code=name)
    return day
