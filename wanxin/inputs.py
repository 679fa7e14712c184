"""Bounded input types shared by pages, forms and the JSON API, for values that otherwise crash
deep inside: dates near the calendar's ends and numbers beyond what PostgreSQL stores. (NUL
characters are refused for every request by ``wanxin.web.middleware``.)"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Annotated

from django import forms
from django.core.validators import MaxValueValidator, MinValueValidator
from django.utils.translation import gettext as _
from pydantic import Field

from wanxin.core.bounds import INT32_MAX, INT64_MAX, MAX_DATE, MIN_DATE
from wanxin.core.errors import WanxinError

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
