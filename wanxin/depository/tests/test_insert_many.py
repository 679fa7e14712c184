"""``wanxin.rows.insert_many`` stores exactly what ``bulk_create`` stores (encrypted fields,
JSON, NULLs, database defaults, timestamps), in one statement, and refuses what it refuses."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

import pytest
from django.conf import settings
from django.db import DataError, IntegrityError, connection, transaction
from django.test.utils import CaptureQueriesContext

from wanxin.depository.models import DepositoryRequest
from wanxin.depository.services import request_build
from wanxin.rows import insert_many

pytestmark = pytest.mark.django_db(databases=["default"])

COLUMNS = [f.column for f in DepositoryRequest._meta.concrete_fields
           if f.column not in ("id", "request_no", "created_at", "updated_at")]


def build(tag: str, n: int) -> list[DepositoryRequest]:
    return [request_build(service_name="USER_PRE_TRANSACTION", request_no=f"{tag}-{i}", user_no=f"U{i}",
                          amount=None if i == 1 else 100 * i, outbox=bool(i % 2),
                          payload={"userNo": f"U{i}", "bizType": "REPAYMENT", "amount": 100 * i, "remark": "还款 ¥"})
            for i in range(n)]


def stored(tag: str) -> list[tuple]:
    """Every column as PostgreSQL holds it (the ciphertexts decrypted: each has its own nonce)."""
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT {', '.join(COLUMNS)} FROM depository_depositoryrequest "
                       "WHERE request_no LIKE %s ORDER BY id", [f"{tag}-%"])
        rows = cursor.fetchall()
    payload, response = (COLUMNS.index(c) for c in ("payload", "response"))
    field = DepositoryRequest._meta.get_field("payload")
    return [tuple(field.from_db_value(v, None, connection) if i in (payload, response) else v
                  for i, v in enumerate(row)) for row in rows]


def test_the_same_rows_as_bulk_create_in_one_statement():
    DepositoryRequest.objects.bulk_create(build("B", 4))
    with CaptureQueriesContext(connection) as captured:
        made = insert_many(build("I", 4))
    assert len(captured.captured_queries) == 1
    assert stored("I") == stored("B") and len(stored("I")) == 4
    by_no = {r.request_no: r for r in DepositoryRequest.objects.filter(request_no__startswith="I-")}
    assert [r.pk for r in made] == [by_no[r.request_no].pk for r in made]  # keys in list order
    assert all(not r._state.adding and r.created_at == by_no[r.request_no].created_at for r in made)
    assert by_no["I-2"].payload["remark"] == "还款 ¥" and by_no["I-1"].amount is None
    assert by_no["I-0"].batch_no == "" and by_no["I-0"].outbox is False and by_no["I-0"].response is None


def test_it_refuses_what_bulk_create_refuses():
    insert_many(build("D", 1))
    with pytest.raises(IntegrityError), transaction.atomic():
        insert_many(build("D", 2))  # D-0 again: the unique request_no
    too_long = build("L", 1)
    too_long[0].user_no = "U" * 65  # varchar(64): refused, not cut
    with pytest.raises(DataError), transaction.atomic():
        insert_many(too_long)
    assert stored("D")[0][COLUMNS.index("user_no")] == "U0" and len(stored("D")) == 1


def test_a_naive_time_is_read_in_the_platform_time_zone_as_bulk_create_reads_it():
    naive = dt.datetime(2026, 1, 1, 23, 30)
    made = {}
    for tag, insert in (("NB", DepositoryRequest.objects.bulk_create), ("NI", insert_many)):
        rows = build(tag, 1)
        rows[0].finished_at = naive
        with pytest.warns(RuntimeWarning, match="naive datetime"):
            insert(rows)
        made[tag] = DepositoryRequest.objects.get(request_no=f"{tag}-0").finished_at
    assert made["NI"] == made["NB"] == naive.replace(tzinfo=ZoneInfo(settings.TIME_ZONE))
