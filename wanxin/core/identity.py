"""Pure checks and masks for identity data: resident ID numbers, bank cards, phones."""

from __future__ import annotations

import datetime as dt
import re

from wanxin.core.labels import TranslatableError, gettext_noop

_ID_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
_ID_CHECK = "10X98765432"
MOBILE_RE = re.compile(r"^1[3-9]\d{9}$")
ADULT_AGE = 18


class IdentityError(TranslatableError):
    """An identity value is malformed; the message says what to fix."""


def resident_id_check_char(first17: str) -> str:
    return _ID_CHECK[sum(int(c) * w for c, w in zip(first17, _ID_WEIGHTS, strict=True)) % 11]


def parse_resident_id(value: str, *, today: dt.date) -> dt.date:
    """Validate an 18-digit PRC resident ID number; return the birth date.

    Refuses a wrong length or characters, an impossible or future birth date, a wrong
    check character and anyone under 18 on ``today``."""
    value = value.strip().upper()
    if not re.fullmatch(r"\d{17}[\dX]", value):
        raise IdentityError(gettext_noop("An ID number has 18 characters: 17 digits and a digit or X."))
    try:
        birth = dt.date(int(value[6:10]), int(value[10:12]), int(value[12:14]))
    except ValueError as exc:
        raise IdentityError(gettext_noop("The birth date inside this ID number does not exist.")) from exc
    if birth > today or birth.year < 1900:
        raise IdentityError(gettext_noop("The birth date inside this ID number is not possible."))
    if resident_id_check_char(value[:17]) != value[17]:
        raise IdentityError(gettext_noop("This ID number's check character is wrong; please check for typos."))
    age = today.year - birth.year - ((today.month, today.day) < (birth.month, birth.day))
    if age < ADULT_AGE:
        raise IdentityError(gettext_noop("Customers must be at least 18 years old."))
    return birth


def luhn_valid(number: str) -> bool:
    if not number.isdigit():
        return False
    total = 0
    for index, char in enumerate(reversed(number)):
        digit = int(char)
        if index % 2 == 1:
            digit = digit * 2 - 9 if digit > 4 else digit * 2
        total += digit
    return total % 10 == 0


def check_card_number(value: str) -> str:
    number = re.sub(r"\s+", "", value)
    if not re.fullmatch(r"\d{12,19}", number):
        raise IdentityError(gettext_noop("A bank card number has 12 to 19 digits."))
    if not luhn_valid(number):
        raise IdentityError(gettext_noop("This card number is not valid; please check for typos."))
    return number


def check_mobile(value: str) -> str:
    number = value.strip()
    if not MOBILE_RE.fullmatch(number):
        raise IdentityError(gettext_noop("A mobile number has 11 digits and starts with 13–19."))
    return number


def mask_id_number(value: str) -> str:
    return f"{value[:3]}{'*' * (len(value) - 7)}{value[-4:]}" if len(value) > 7 else "*" * len(value)


def mask_card_number(value: str) -> str:
    return f"{value[:4]} **** **** {value[-4:]}" if len(value) > 8 else "*" * len(value)


def mask_mobile(value: str) -> str:
    return f"{value[:3]}****{value[-4:]}" if len(value) == 11 else "*" * len(value)


def mask_name(value: str) -> str:
    return value[:1] + "*" * (len(value) - 1) if value else ""
