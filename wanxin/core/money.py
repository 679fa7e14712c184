"""Money is integer fen. Rates are Decimal. Rounding happens only at named points."""

from __future__ import annotations

from collections.abc import Sequence
from decimal import ROUND_HALF_UP, Decimal

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
