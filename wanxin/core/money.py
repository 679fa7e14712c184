"""Money is integer fen. Rates are Decimal. Rounding happens only at named points."""

from __future__ import annotations

import re
from collections.abc import Sequence
from decimal import ROUND_HALF_UP, Decimal

from wanxin.core.labels import TranslatableError, gettext_noop

FEN_PER_YUAN = 100
# The largest amount any single field may carry: 10^15 fen (ten trillion yuan), well inside
# PostgreSQL bigint and JSON's exact-integer range (2^53).
MAX_AMOUNT_FEN = 10**15


def is_fen(value: object) -> bool:
    """True for a Python int (never bool, never float) within the allowed range."""
    return type(value) is int and -MAX_AMOUNT_FEN <= value <= MAX_AMOUNT_FEN


def round_half_up(value: Decimal) -> int:
    """Round a Decimal amount of fen half up to a whole fen."""
    return int(value.quantize(Decimal(1), rounding=ROUND_HALF_UP))


def allocate(total: int, weights: Sequence[int | Decimal]) -> list[int]:
    """Split ``total`` fen in proportion to ``weights`` by largest remainder.

    Parts always add up to ``total`` exactly; ties go to the earlier weight so the
    result is deterministic.
    """
    if total < 0:
        raise ValueError("total must not be negative")
    if not weights:
        raise ValueError("weights must not be empty")
    ws = [Decimal(w) for w in weights]
    if any(w < 0 for w in ws):
        raise ValueError("weights must not be negative")
    weight_sum = sum(ws)
    if weight_sum == 0:
        raise ValueError("weights must not all be zero")
    exact = [Decimal(total) * w / weight_sum for w in ws]
    parts = [int(e) for e in exact]  # floor: all values are non-negative
    short = total - sum(parts)
    order = sorted(range(len(ws)), key=lambda i: (-(exact[i] - parts[i]), i))
    for i in order[:short]:
        parts[i] += 1
    return parts


def format_fen(amount: int) -> str:
    """Render fen as ``¥1,234.56`` (edge formatting only)."""
    sign = "-" if amount < 0 else ""
    yuan, fen = divmod(abs(amount), FEN_PER_YUAN)
    return f"{sign}¥{yuan:,}.{fen:02d}"


# -- amounts people type ------------------------------------------------------------------------


class AmountError(TranslatableError):
    """An amount that cannot be used. ``code`` says which rule it broke (``required``,
    ``invalid``, ``fraction``, ``decimals``, ``negative``, ``zero``, ``too_small``,
    ``too_large``, ``not_fen``), so a caller may word it its own way; the text is a marked
    default (``wanxin.i18n.translated`` shows it in the reader's language)."""

    def __init__(self, code: str, text: str, **params: object):
        self.code = code
        super().__init__(text, **params)


_TYPED_YUAN = gettext_noop("Enter the amount in yuan, for example 1000 or 99.50.")
# ASCII digits only (``\d`` would accept full-width and other scripts' digits); thousands
# separators only in whole groups of three; a decimal point only with digits after it.
_YUAN_RE = re.compile(r"(?:[0-9]{1,3}(?:,[0-9]{3})+|[0-9]+)(?:\.([0-9]+))?", re.ASCII)
_FEN_RE = re.compile(r"[0-9]+", re.ASCII)
# More whole digits than any allowed amount has: refused before ``int()`` sees a giant text.
_MAX_DIGITS = len(str(MAX_AMOUNT_FEN))


def parse_yuan(text: object, *, maximum: int, minimum: int = 1) -> int:
    """An amount typed in yuan (``"1,234.5"``, ``"¥99.99"``, ``"+5"``) as integer fen, exactly,
    within ``minimum``..``maximum`` fen. Refuses anything but a plain decimal number of whole
    fen (no exponent, no full-width digits, no ``"12."``); a minus sign only when ``minimum``
    is negative."""
    if not isinstance(text, str):
        raise AmountError("invalid", _TYPED_YUAN)
    value = text.strip().removeprefix("¥").strip()
    if not value:
        raise AmountError("required", gettext_noop("Enter an amount."))
    negative = value.startswith("-")
    if negative and minimum >= 0:
        raise _below(-1, minimum)
    value = value[1:] if value[:1] in "+-" else value
    match = _YUAN_RE.fullmatch(value)
    if match is None:
        raise AmountError("invalid", _TYPED_YUAN)
    whole, _, decimals = value.replace(",", "").partition(".")
    decimals = decimals.rstrip("0")  # "1.500" is still whole fen
    if len(decimals) > 2:
        raise AmountError("decimals", gettext_noop("The amount can have at most 2 decimal places (whole fen)."))
    if len(whole.lstrip("0")) > _MAX_DIGITS:
        raise _above(maximum)
    fen = int(whole) * FEN_PER_YUAN + int(decimals.ljust(2, "0"))
    return check_fen(-fen if negative else fen, maximum=maximum, minimum=minimum)


def parse_fen(text: object, *, maximum: int, minimum: int = 1) -> int:
    """An amount in fen as text (a query string's ``"1000000"``): ASCII digits only, no decimal
    point, within ``minimum``..``maximum``."""
    value = text.strip() if isinstance(text, str) else ""
    if not value:
        raise AmountError("required", gettext_noop("Enter an amount."))
    if value.startswith("-") and minimum >= 0:
        raise _below(-1, minimum)
    body = value[1:] if value[:1] in "+-" else value
    if "." in body and _FEN_RE.fullmatch(body.replace(".", "", 1)):
        raise AmountError("fraction", gettext_noop("The amount is in fen and must be a whole number."))
    if not _FEN_RE.fullmatch(body):
        raise AmountError("not_fen", gettext_noop("The amount must be a whole number of fen."))
    if len(body.lstrip("0")) > _MAX_DIGITS:
        raise _above(maximum)
    return check_fen(-int(body) if value.startswith("-") else int(body), maximum=maximum, minimum=minimum)


def check_fen(amount: object, *, maximum: int, minimum: int = 1) -> int:
    """An amount given in fen (API clients, parsed text): an int, never a float or bool, within
    ``minimum``..``maximum`` (and never beyond ``MAX_AMOUNT_FEN`` either way)."""
    if type(amount) is not int:
        raise AmountError("not_fen", gettext_noop("The amount must be a whole number of fen."))
    if amount < max(minimum, -MAX_AMOUNT_FEN):
        raise _below(amount, max(minimum, -MAX_AMOUNT_FEN))
    if amount > min(maximum, MAX_AMOUNT_FEN):
        raise _above(maximum)
    return amount


def _below(amount: int, minimum: int) -> AmountError:
    if amount < 0 <= minimum:
        if minimum == 0:
            return AmountError("negative", gettext_noop("The amount must not be negative."))
        return AmountError("negative", gettext_noop("The amount must be positive."))
    if amount == 0 and minimum == 1:
        return AmountError("zero", gettext_noop("The amount must be more than zero."))
    return AmountError("too_small", gettext_noop("The amount must be at least %(min)s."), min=format_fen(minimum))


def _above(maximum: int) -> AmountError:
    return AmountError("too_large", gettext_noop("The amount is too large: at most %(max)s."),
                       max=format_fen(min(maximum, MAX_AMOUNT_FEN)))
