"""Fund records (资金动态): filters, keyset pages, CSV, statistics, and ownership."""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
import re
import zoneinfo

import pytest
from django.test import Client

from wanxin.funds import selectors
from wanxin.funds.models import DepositoryAccount, FundRecord
from wanxin.funds.selectors import BadFilter, RecordFilter

from .conftest import client_for, make_customer

pytestmark = pytest.mark.django_db(databases=["default"])

BEIJING = zoneinfo.ZoneInfo("Asia/Shanghai")


def at(day: str, hour: int = 12, minute: int = 0) -> dt.datetime:
    return dt.datetime.combine(dt.date.fromisoformat(day), dt.time(hour, minute), tzinfo=BEIJING)


def seed(user, rows: list[tuple[str, str, int]]) -> list[FundRecord]:
    """(Beijing time "YYYY-MM-DD HH:MM", type, amount) → records with running balances."""
    DepositoryAccount.objects.get_or_create(user=user, defaults={"user_no": user.user_no, "status": "OPEN"})
    balance, made = 0, []
    for index, (when, kind, amount) in enumerate(rows):
        day, clock = when.split(" ")
        hour, minute = (int(x) for x in clock.split(":"))
        balance += amount
        made.append(FundRecord(user=user, type=kind, amount=amount, available_after=balance, frozen_after=0,
                               request_no=f"{user.user_no}-{index}", created_at=at(day, hour, minute)))
    return FundRecord.objects.bulk_create(made)


@pytest.fixture
def history(customer):
    return seed(customer, [
        ("2024-12-31 23:59", "RECHARGE", 100_000),
        ("2025-01-01 00:00", "RECHARGE", 50_000),  # Beijing midnight: 2024-12-31 16:00 UTC
        ("2025-01-15 10:00", "WITHDRAW", -29_800),
        ("2025-01-15 10:00", "COMMISSION", -200),  # same instant as the withdrawal
        ("2025-02-03 09:30", "FREEZE", -10_000),
        ("2025-02-20 14:00", "RECHARGE", 20_000),
        ("2025-03-01 08:00", "UNFREEZE", 10_000),
    ])


def types(page) -> list[str]:
    return [r.type for r in page.items]


def test_newest_first_with_keyset_pages(customer, history):
    everything = selectors.records_page(customer, RecordFilter(), limit=50)
    assert [r.pk for r in everything.items] == [r.pk for r in sorted(
        history, key=lambda r: (r.created_at, r.pk), reverse=True)]
    assert everything.next_cursor is None and everything.prev_cursor is None

    seen, cursor, pages = [], None, 0
    while True:
        page = selectors.records_page(customer, RecordFilter(), after=cursor, limit=2)
        seen += [r.pk for r in page.items]
        pages += 1
        assert (page.prev_cursor is not None) == (pages > 1)
        cursor = page.next_cursor
        if cursor is None:
            break
    assert pages == 4 and seen == [r.pk for r in everything.items]  # the tie at 10:00 is not lost

    # Back from the last page to the newer ones, by ``before``.
    third = selectors.records_page(customer, RecordFilter(), after=selectors.records_page(
        customer, RecordFilter(), limit=4).next_cursor, limit=2)
    newer = selectors.records_page(customer, RecordFilter(), before=third.prev_cursor, limit=2)
    assert [r.pk for r in newer.items] == seen[2:4]
    first = selectors.records_page(customer, RecordFilter(), before=newer.prev_cursor, limit=2)
    assert [r.pk for r in first.items] == seen[0:2] and first.prev_cursor is None


def test_filters_by_type_and_beijing_dates(customer, history):
    def page(**kwargs):
        return selectors.records_page(customer, selectors.record_filter(**kwargs), limit=50)

    assert types(page(types=["RECHARGE"])) == ["RECHARGE"] * 3
    assert types(page(types=["withdraw,commission"])) == ["COMMISSION", "WITHDRAW"]
    assert [r.amount for r in page(date_from="2025-01-01", date_to="2025-01-01").items] == [50_000]
    assert [r.amount for r in page(date_to="2024-12-31").items] == [100_000]
    assert types(page(types=["RECHARGE"], date_from="2025-01-02")) == ["RECHARGE"]
    assert page(date_from="2026-01-01").items == []


@pytest.mark.parametrize(("kwargs", "message"), [
    ({"types": ["BONUS"]}, "Unknown record type 'BONUS'"),
    ({"date_from": "2025-13-01"}, "date like"),
    ({"date_from": "yesterday"}, "date like"),
    ({"date_from": "2025-02-01", "date_to": "2025-01-01"}, "start date is after the end date"),
    ({"date_from": "1990-01-01", "date_to": "2025-01-01"}, "at most ten years"),
])
def test_bad_filters_are_refused(kwargs, message):
    with pytest.raises(BadFilter, match=message):
        selectors.record_filter(**kwargs)


@pytest.mark.parametrize("cursor", ["abc", "1_", "_1", "1-2", "9" * 30 + "_1", "1_2_3", "9" * 19 + "_1"])
def test_bad_cursors_are_refused(customer, cursor):
    with pytest.raises(BadFilter, match="not valid"):
        selectors.records_page(customer, RecordFilter(), after=cursor)


def test_page_size_is_bounded(customer):
    for limit in (0, 101):
        with pytest.raises(BadFilter):
            selectors.records_page(customer, RecordFilter(), limit=limit)


def test_only_the_owner_sees_records(customer, history):
    other = make_customer()
    seed(other, [("2025-01-05 10:00", "RECHARGE", 1)])
    mine = history[0].pk
    assert selectors.records_page(other, RecordFilter(), limit=50).items[0].amount == 1
    assert len(selectors.records_page(other, RecordFilter(), limit=50).items) == 1
    intruder = client_for(other)
    assert intruder.get(f"/funds/records/{mine}").status_code == 404
    response = intruder.get(f"/api/v1/funds/records/{mine}")
    assert response.status_code == 404 and response.json()["code"] == "not_found"
    assert intruder.get("/funds/records/999999999").status_code == 404
    owner = client_for(customer)
    assert owner.get(f"/funds/records/{mine}").status_code == 200
    assert owner.get(f"/api/v1/funds/records/{mine}").json()["amount"] == 100_000
    csv_text = b"".join(intruder.get("/funds/records.csv").streaming_content).decode()
    assert history[0].request_no not in csv_text
    assert intruder.get("/api/v1/funds/statistics").json()["money_in"] == 1


def test_api_list_and_cursor(customer, history):
    api = client_for(customer)
    first = api.get("/api/v1/funds/records", {"limit": 3}).json()
    assert [i["type"] for i in first["items"]] == ["UNFREEZE", "RECHARGE", "FREEZE"]
    assert first["items"][0] == {
        "id": history[-1].pk, "type": "UNFREEZE", "type_label": "Unfreeze", "type_label_zh": "解冻",
        "amount": 10_000, "available_after": 140_000, "frozen_after": 0,
        "request_no": history[-1].request_no, "remark": "", "created_at": "2025-03-01T00:00:00Z",
    }
    second = api.get("/api/v1/funds/records", {"limit": 3, "after": first["next_cursor"]}).json()
    assert [i["type"] for i in second["items"]] == ["COMMISSION", "WITHDRAW", "RECHARGE"]
    filtered = api.get("/api/v1/funds/records", {"type": ["RECHARGE", "UNFREEZE"], "date_from": "2025-01-01"})
    assert [i["amount"] for i in filtered.json()["items"]] == [10_000, 20_000, 50_000]
    bad = api.get("/api/v1/funds/records", {"type": "LOTTERY"})
    assert bad.status_code == 400 and bad.json()["code"] == "type"
    assert api.get("/api/v1/funds/records", {"after": "nope"}).status_code == 400
    assert Client().get("/api/v1/funds/records").status_code == 401


def test_csv_export_streams_the_filtered_records(customer, history):
    response = client_for(customer).get("/funds/records.csv", {"date_from": "2025-01-01", "date_to": "2025-01-31"})
    assert response.status_code == 200 and response.streaming
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    assert response["Content-Disposition"] == 'attachment; filename="fund-records_2025-01-01_2025-01-31.csv"'
    text = b"".join(response.streaming_content).decode("utf-8")
    assert text.startswith("\ufeff")
    rows = list(csv.reader(io.StringIO(text.lstrip("\ufeff"))))
    assert rows[0] == ["time", "type", "type_zh", "amount_yuan", "available_after_yuan", "frozen_after_yuan",
                       "request_no", "remark"]
    assert rows[1:] == [
        ["2025-01-15T10:00:00+08:00", "COMMISSION", "提现手续费", "-2.00", "1200.00", "0.00", history[3].request_no, ""],
        ["2025-01-15T10:00:00+08:00", "WITHDRAW", "提现", "-298.00", "1202.00", "0.00", history[2].request_no, ""],
        ["2025-01-01T00:00:00+08:00", "RECHARGE", "充值", "500.00", "1500.00", "0.00", history[1].request_no, ""],
    ]
    api_csv = client_for(customer).get("/api/v1/funds/records.csv", {"type": "RECHARGE"})
    assert api_csv.status_code == 200
    assert len(b"".join(api_csv.streaming_content).decode().strip().splitlines()) == 4


def test_csv_neutralises_formulas_in_remarks(customer):
    DepositoryAccount.objects.create(user=customer, user_no=customer.user_no, status="OPEN")
    FundRecord.objects.create(user=customer, type="FREEZE", amount=-1, available_after=0, frozen_after=1,
                              request_no="F1", remark="=HYPERLINK(\"x\")", created_at=at("2025-01-01"))
    text = b"".join(client_for(customer).get("/funds/records.csv").streaming_content).decode()
    assert "'=HYPERLINK" in text


def test_csv_export_of_many_rows_in_blocks(customer):
    seed(customer, [(f"2025-01-{1 + i % 28:02d} 10:{i % 60:02d}", "RECHARGE", 1) for i in range(4_500)])
    response = client_for(customer).get("/funds/records.csv")
    chunks = list(response.streaming_content)
    assert len(chunks) >= 3  # the header, then blocks of about 64 KB
    assert sum(chunk.count(b"\n") for chunk in chunks) == 4_501


def test_statistics(customer, history):
    stats = selectors.statistics(customer, RecordFilter(), today=dt.date(2025, 3, 20))
    assert [(t.code, t.count, t.total) for t in stats.totals] == [
        ("RECHARGE", 3, 170_000), ("WITHDRAW", 1, -29_800), ("COMMISSION", 1, -200),
        ("FREEZE", 1, -10_000), ("UNFREEZE", 1, 10_000)]
    assert (stats.money_in, stats.money_out) == (170_000, 30_000)  # freezes move no money
    assert stats.months[-4:] == [("2024-12", 100_000, 0), ("2025-01", 50_000, 30_000), ("2025-02", 20_000, 0),
                                 ("2025-03", 0, 0)]
    assert len(stats.months) == 12 and stats.months[0][0] == "2024-04"

    ranged = selectors.statistics(customer, selectors.record_filter(date_from="2025-01-01", date_to="2025-02-28"))
    assert [m for m, _, _ in ranged.months] == ["2025-01", "2025-02"]
    assert (ranged.money_in, ranged.money_out) == (70_000, 30_000)

    page = client_for(customer).get("/funds/statistics", {"date_from": "2025-01-01", "date_to": "2025-02-28"})
    text = page.content.decode()
    assert page.status_code == 200 and 'data-chart="monthly-chart-data"' in text and 'id="money-in">¥700.00' in text
    # The chart is drawn by ECharts from this JSON (amounts in fen); the table stays beside it.
    chart = json.loads(re.search(r'<script id="monthly-chart-data" type="application/json">(.*?)</script>',
                                 text, re.S).group(1))
    assert chart["categories"] == ["2025-01", "2025-02"]
    assert [s["data"] for s in chart["series"]] == [[50_000, 20_000], [30_000, 0]]
    assert 'id="monthly"' in text and "¥300.00" in text.split('id="monthly"')[1]
    api = client_for(customer).get("/api/v1/funds/statistics", {"date_from": "2025-01-01", "date_to": "2025-01-31"})
    assert api.json()["months"] == [{"month": "2025-01", "money_in": 50_000, "money_out": 30_000}]


def test_records_page_renders_filters_and_links(customer, history):
    web = client_for(customer)
    page = web.get("/funds/records", {"type": "RECHARGE"}).content.decode()
    assert page.count('data-type="RECHARGE"') == 3 and 'data-type="WITHDRAW"' not in page
    assert 'href="/funds/records.csv?type=RECHARGE"' in page
    many = seed(make_customer(), [(f"2025-01-01 10:{i:02d}", "RECHARGE", 1) for i in range(25)])
    owner = client_for(many[0].user)
    first = owner.get("/funds/records").content.decode()
    assert 'id="older"' in first and 'id="newer"' not in first
    older = first.split('id="older" href="')[1].split('"')[0].replace("&amp;", "&")
    second = owner.get(f"/funds/records{older}").content.decode()
    assert second.count("<tr data-type") == 5 and 'id="newer"' in second
    bad = web.get("/funds/records", {"date_from": "2025-02-01", "date_to": "2025-01-01"})
    assert "start date is after the end date" in bad.content.decode()


def test_openapi_schema_lists_the_funds_api():
    schema = Client().get("/api/v1/openapi.json").json()
    for path in ("/api/v1/funds/account", "/api/v1/funds/balance", "/api/v1/funds/recharge",
                 "/api/v1/funds/withdraw", "/api/v1/funds/withdraw/quote", "/api/v1/funds/records",
                 "/api/v1/funds/records.csv", "/api/v1/funds/records/{record_id}", "/api/v1/funds/statistics",
                 "/api/v1/funds/requests/{request_no}"):
        assert path in schema["paths"], path
