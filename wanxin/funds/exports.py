"""CSV export of fund records (shared by the page and the API).

PostgreSQL formats every column and streams the rows with ``COPY … TO STDOUT``; Python
only gathers them into blocks of about 64 KB for the response. For a year of a busy
customer (50,000 rows) that is several times faster than formatting rows in Python."""

from __future__ import annotations

from collections.abc import Iterator

from django.conf import settings
from django.db import connection, transaction
from django.http import StreamingHttpResponse

from .selectors import RecordFilter, export_query

HEADER = ["time", "type", "type_zh", "amount_yuan", "available_after_yuan", "frozen_after_yuan", "request_no",
          "remark"]
BLOCK_BYTES = 64 * 1024


def _blocks(user, filters: RecordFilter) -> Iterator[bytes]:
    # A BOM, so spreadsheet programs read the Chinese labels as UTF-8.
    yield ("\ufeff" + ",".join(HEADER) + "\n").encode("utf-8")
    sql, params = export_query(user, filters)
    buffer = bytearray()
    with transaction.atomic(), connection.cursor() as cursor:
        # Times in the customer's (Beijing) time, with their offset; reset at the end of the transaction.
        cursor.execute("SELECT set_config('TimeZone', %s, true)", [settings.TIME_ZONE])
        with cursor.cursor.copy(f"COPY ({sql}) TO STDOUT WITH (FORMAT csv)", params) as copy:
            for row in copy:
                buffer += row
                if len(buffer) >= BLOCK_BYTES:
                    yield bytes(buffer)
                    buffer.clear()
    if buffer:
        yield bytes(buffer)


def csv_response(user, filters: RecordFilter) -> StreamingHttpResponse:
    parts = ["fund-records"]
    if filters.date_from:
        parts.append(filters.date_from.isoformat())
    if filters.date_to:
        parts.append(filters.date_to.isoformat())
    response = StreamingHttpResponse(_blocks(user, filters), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{"_".join(parts)}.csv"'
    response["Cache-Control"] = "private, no-store"
    return response
