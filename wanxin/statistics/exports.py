"""CSV of the statistics page: the figures of the range (one row each: code, label, value;
money in yuan, rates in percent), a blank line, then the daily volumes."""

from __future__ import annotations

import csv
import io
from decimal import Decimal

from django.http import HttpResponse

from . import selectors


def _yuan(fen: int) -> str:
    return f"{Decimal(fen) / 100:.2f}"


def csv_response(r: selectors.DateRange, figures: list[tuple[str, str, str, object]], daily: list[dict]) -> HttpResponse:
    """``figures``: (code, label in the reader's language, unit "fen"/"count"/"percent"/"date", value)."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(["metric", "label", "unit", "value"])
    for code, label, unit, value in figures:
        writer.writerow([code, label, "yuan" if unit == "fen" else unit,
                         _yuan(value) if unit == "fen" and value is not None else value])
    writer.writerow([])
    writer.writerow(["day", *selectors.DAILY_FIELDS])
    for row in daily:
        writer.writerow([row["day"].isoformat(), row["registered"],
                         *[_yuan(row[f]) for f in selectors.DAILY_FIELDS[1:]]])
    response = HttpResponse("\ufeff" + out.getvalue(), content_type="text/csv; charset=utf-8")
    name = f"platform-statistics_{r.date_from.isoformat()}_{r.date_to.isoformat()}.csv"
    response["Content-Disposition"] = f'attachment; filename="{name}"'
    response["Cache-Control"] = "private, no-store"
    return response
