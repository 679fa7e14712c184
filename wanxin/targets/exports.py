"""CSV of the target list: every filtered project, amounts in yuan, statuses by label and by
code, times in Beijing time. Rows are streamed from the database in chunks."""

from __future__ import annotations

import csv
from collections.abc import Iterator
from decimal import Decimal

from django.http import StreamingHttpResponse
from django.utils import timezone

from wanxin.lending.labels import method_label, status_label

from . import selectors

HEADER = ["project_no", "name", "borrower", "amount_yuan", "months", "method", "status", "status_label",
          "borrower_rate", "investor_rate", "raised_yuan", "applied_at", "reviewed_at", "published_at", "full_at",
          "loaned_at", "miscarried_at"]


class _Echo:
    def write(self, value: str) -> str:
        return value


def _text(value: str) -> str:
    """A cell a spreadsheet will not run as a formula (names are typed by borrowers)."""
    return "'" + value if value[:1] in ("=", "+", "-", "@", "\t", "\r") else value


def _yuan(fen: int) -> str:
    return f"{Decimal(fen) / 100:.2f}"


def _time(value) -> str:
    return timezone.localtime(value).isoformat(timespec="seconds") if value else ""


def _rows(f: selectors.TargetFilter) -> Iterator[str]:
    writer = csv.writer(_Echo(), lineterminator="\n")
    yield "\ufeff" + writer.writerow(HEADER)  # a BOM: spreadsheets read the Chinese as UTF-8
    for (no, name, borrower, amount, months, method, status, b_rate, i_rate, raised, *times) in \
            selectors.export_rows(f):
        yield writer.writerow([no, _text(name), _text(borrower), _yuan(amount), months, method_label(method), status,
                               status_label(status), b_rate if b_rate is not None else "",
                               i_rate if i_rate is not None else "", _yuan(raised), *[_time(t) for t in times]])


def csv_response(f: selectors.TargetFilter) -> StreamingHttpResponse:
    response = StreamingHttpResponse(_rows(f), content_type="text/csv; charset=utf-8")
    stamp = timezone.localdate().isoformat()
    response["Content-Disposition"] = f'attachment; filename="targets_{stamp}.csv"'
    response["Cache-Control"] = "private, no-store"
    return response
