"""The public allocation API of issue 12, exact values against the seeded products."""

from __future__ import annotations

import datetime as dt

import pytest

from wanxin.allocation.models import Holiday, Product

pytestmark = pytest.mark.django_db
BASE = "/api/v1/allocation"


@pytest.fixture
def national_day():
    Holiday.objects.bulk_create(Holiday(day=dt.date(2026, 10, d), name="国庆节") for d in range(1, 8))


def _ids():
    return {p.code: p.pk for p in Product.objects.all()}


def test_products_lists_the_seeded_daily_and_monthly_products(client):
    response = client.get(f"{BASE}/products")
    assert response.status_code == 200
    by_type = {p["type"]: p for p in response.json()}
    ids = _ids()
    assert by_type["DAILY"] == {
        "id": ids["daily"], "name": "按天配资", "type": "DAILY", "multiples": [2, 3, 4, 5],
        "rates": {"2": "0.001000", "3": "0.001200", "4": "0.001400", "5": "0.001600"},
        "durations": [2, 5, 10, 20], "depositMin": 100_000, "depositMax": 100_000_000,
        "riskFundRate": "0.010000", "warningPct": "0.500000", "liquidationPct": "0.300000"}
    assert by_type["MONTHLY"]["rates"] == {"3": "0.015000", "4": "0.016000", "5": "0.017000", "6": "0.018000"}
    assert by_type["MONTHLY"]["durations"] == [1, 2, 3, 6]


def test_a_product_off_sale_is_not_listed(client):
    Product.objects.filter(code="daily").update(active=False)
    assert [p["type"] for p in client.get(f"{BASE}/products").json()] == ["MONTHLY"]


def test_calendar_skips_weekends_and_configured_holidays(client, national_day):
    response = client.get(f"{BASE}/calendar", {"from": "2026-09-26", "to": "2026-10-12"})
    assert response.status_code == 200
    assert response.json() == {"tradingDays": ["2026-09-28", "2026-09-29", "2026-09-30", "2026-10-08",
                                               "2026-10-09", "2026-10-12"]}


def test_quote_of_a_daily_allocation_over_a_holiday(client, national_day):
    response = client.get(f"{BASE}/quote", {"productId": _ids()["daily"], "deposit": "1500500", "multiple": "3",
                                            "duration": "5", "start": "2026-09-26"})
    assert response.status_code == 200, response.content
    assert response.json() == {
        "start": "2026-09-28",  # Saturday asked: the first trading day on or after it
        "allocated": 4_501_500, "totalCapital": 6_002_000,
        "riskFund": 45_015,  # rhu(4,501,500 × 0.01)
        "warningLine": 5_251_750,  # 4,501,500 + rhu(1,500,500 × 0.5)
        "liquidationLine": 4_951_650,  # 4,501,500 + rhu(1,500,500 × 0.3)
        "fees": [{"date": day, "amount": 5_402}  # rhu(4,501,500 × 0.0012 = 5,401.8)
                 for day in ("2026-09-28", "2026-09-29", "2026-09-30", "2026-10-08", "2026-10-09")],
        "feeTotal": 27_010, "payNow": 1_500_500 + 45_015 + 5_402, "end": "2026-10-09",
    }


@pytest.mark.parametrize("start,dates,end", [
    ("2024-01-31", ["2024-01-31", "2024-02-29", "2024-03-31"], "2024-04-30"),  # leap year
    ("2025-01-31", ["2025-01-31", "2025-02-28", "2025-03-31"], "2025-04-30"),  # common year
])
def test_quote_of_a_monthly_allocation_from_31_january(client, start, dates, end):
    response = client.get(f"{BASE}/quote", {"productId": _ids()["monthly"], "deposit": "1000001", "multiple": "3",
                                            "duration": "3", "start": start})
    assert response.status_code == 200, response.content
    assert response.json() == {
        "start": start, "allocated": 3_000_003, "totalCapital": 4_000_004, "riskFund": 30_000,
        "warningLine": 3_600_004, "liquidationLine": 3_400_003,
        "fees": [{"date": day, "amount": 45_000} for day in dates],  # rhu(45,000.045)
        "feeTotal": 135_000, "payNow": 1_075_001, "end": end,
    }


def test_quote_starts_today_when_no_start_is_given(client):
    response = client.get(f"{BASE}/quote", {"productId": _ids()["monthly"], "deposit": "1000000", "multiple": "4",
                                            "duration": "1"})
    assert response.status_code == 200
    body = response.json()
    assert dt.date.fromisoformat(body["start"]).weekday() < 5
    assert body["fees"] == [{"date": body["start"], "amount": 64_000}]


@pytest.mark.parametrize("change,status,code", [
    ({"deposit": "abc"}, 400, "invalid_deposit"),
    ({"deposit": "-5"}, 400, "invalid_deposit"),
    ({"deposit": "499999"}, 400, "invalid_deposit"),  # below the product's ¥5,000.00
    ({"deposit": "200000001"}, 400, "invalid_deposit"),
    ({"deposit": ""}, 400, "invalid_deposit"),
    ({"multiple": "2"}, 400, "invalid_multiple"),  # the monthly product allows 3–6
    ({"multiple": "3.5"}, 400, "invalid_multiple"),
    ({"duration": "4"}, 400, "invalid_duration"),
    ({"start": "2024-02-30"}, 400, "invalid_start"),
    ({"productId": "999999"}, 404, "invalid_productId"),
    ({"productId": ""}, 400, "invalid_productId"),
])
def test_bad_quote_input_is_refused_naming_the_field(client, change, status, code):
    query = {"productId": str(_ids()["monthly"]), "deposit": "1000000", "multiple": "3", "duration": "3",
             "start": "2025-01-31", **change}
    response = client.get(f"{BASE}/quote", query)
    assert response.status_code == status, response.content
    assert response.json()["code"] == code
    assert response.json()["message"]


@pytest.mark.parametrize("query,code", [
    ({"from": "2026-13-01"}, "invalid_from"),
    ({"from": "2026-10-12", "to": "2026-09-26"}, "invalid_to"),
    ({"from": "2026-01-01", "to": "2029-01-01"}, "invalid_to"),
])
def test_bad_calendar_input_is_refused_naming_the_field(client, query, code):
    response = client.get(f"{BASE}/calendar", query)
    assert response.status_code == 400
    assert response.json()["code"] == code


def test_the_contract_is_in_the_openapi_schema(client):
    paths = client.get("/api/v1/openapi.json").json()["paths"]
    assert {f"{BASE}/products", f"{BASE}/calendar", f"{BASE}/quote"} <= set(paths)
    params = {p["name"] for p in paths[f"{BASE}/calendar"]["get"]["parameters"]}
    assert params == {"from", "to"}
