"""The loan calculator: GET /api/v1/calculator (JSON, integer fen) and the /calculator page.
No database: the calculator is pure arithmetic."""

from __future__ import annotations

import json
import re

import pytest
from django.test import Client

API = "/api/v1/calculator"


@pytest.fixture
def client() -> Client:
    return Client()


def get(client: Client, **params):
    return client.get(API, params)


def test_equal_installment_schedule_and_totals(client):
    response = get(client, amount="1000000", annualRate="0.12", months="12", method="EQUAL_INSTALLMENT")
    assert response.status_code == 200, response.content
    body = response.json()
    assert (body["amount"], body["annualRate"], body["months"], body["method"]) == (
        1_000_000, "0.12", 12, "EQUAL_INSTALLMENT")
    assert len(body["periods"]) == 12
    assert body["periods"][0] == {"period": 1, "due": None, "principal": 78_849, "interest": 10_000,
                                  "payment": 88_849, "remaining": 921_151}
    assert body["periods"][-1] == {"period": 12, "due": None, "principal": 87_967, "interest": 880,
                                   "payment": 88_847, "remaining": 0}
    assert body["totals"] == {"principal": 1_000_000, "interest": 66_186, "payment": 1_066_186}
    assert all(type(v) is int for p in body["periods"] for k, v in p.items() if k != "due")


@pytest.mark.parametrize(("method", "count", "interest"), [
    ("EQUAL_PRINCIPAL", 3, 2_000), ("INTEREST_FIRST", 3, 3_000), ("BULLET", 1, 3_000)])
def test_every_method(client, method, count, interest):
    # ¥1,000 at 12% for 3 months: equal principal 1,000 + 667 + 333; interest first 3 × 1,000;
    # bullet 100,000 × 0.12 × 3 / 12 = 3,000.
    body = get(client, amount="100000", annualRate="0.12", months="3", method=method).json()
    assert len(body["periods"]) == count
    assert body["totals"] == {"principal": 100_000, "interest": interest, "payment": 100_000 + interest}


def test_due_dates_with_a_start(client):
    body = get(client, amount="300000", annualRate="0.1", months="3", method="EQUAL_PRINCIPAL",
               start="2024-01-31").json()
    assert [p["due"] for p in body["periods"]] == ["2024-02-29", "2024-03-31", "2024-04-30"]


def test_limits_are_accepted(client):
    assert get(client, amount="1", annualRate="0", months="1", method="BULLET").status_code == 200
    body = get(client, amount="1000000000000", annualRate="0.36", months="360", method="EQUAL_INSTALLMENT").json()
    assert body["totals"]["principal"] == 10**12 and len(body["periods"]) == 360
    assert get(client, amount="100", annualRate="0.123456", months="1", method="BULLET").status_code == 200


@pytest.mark.parametrize(
    ("params", "code", "message"),
    [
        ({"amount": None}, "invalid_amount", "Give the amount in fen"),
        ({"amount": ""}, "invalid_amount", "Give the amount in fen"),
        ({"amount": "-100"}, "invalid_amount", "The amount must be positive."),
        ({"amount": "0"}, "invalid_amount", "The amount must be more than zero."),
        ({"amount": "100.5"}, "invalid_amount", "must be a whole number, without a decimal point"),
        ({"amount": "100.00"}, "invalid_amount", "without a decimal point"),
        ({"amount": "1e5"}, "invalid_amount", "whole number of fen"),
        ({"amount": "abc"}, "invalid_amount", "whole number of fen"),
        ({"amount": "１００"}, "invalid_amount", "whole number of fen"),  # full-width digits
        ({"amount": "1000000000001"}, "invalid_amount", "at most 1000000000000 fen (¥10,000,000,000.00)"),
        ({"amount": "9" * 5000}, "invalid_amount", "at most 1000000000000 fen"),
        ({"annualRate": None}, "invalid_annualRate", "Give the annual rate as a decimal fraction"),
        ({"annualRate": "abc"}, "invalid_annualRate", "must be a decimal number such as 0.12"),
        ({"annualRate": "12%"}, "invalid_annualRate", "must be a decimal number such as 0.12"),
        ({"annualRate": "NaN"}, "invalid_annualRate", "must be a decimal number"),
        ({"annualRate": "1e-1"}, "invalid_annualRate", "must be a decimal number"),
        ({"annualRate": "-0.1"}, "invalid_annualRate", "must not be negative"),
        ({"annualRate": "0.37"}, "invalid_annualRate", "at most 0.36 (36%)"),
        ({"annualRate": "12"}, "invalid_annualRate", "for example 0.12 for 12%"),
        ({"annualRate": "0.1234567"}, "invalid_annualRate", "at most 6 decimal places"),
        ({"months": None}, "invalid_months", "from 1 to 360"),
        ({"months": "0"}, "invalid_months", "from 1 to 360"),
        ({"months": "361"}, "invalid_months", "from 1 to 360"),
        ({"months": "12.5"}, "invalid_months", "whole number of months"),
        ({"months": "-3"}, "invalid_months", "from 1 to 360"),
        ({"method": None}, "invalid_method", "Give the repayment method"),
        ({"method": "BALLOON"}, "invalid_method", "Unknown repayment method 'BALLOON': use one of EQUAL_INSTALLMENT"),
        ({"method": "bullet"}, "invalid_method", "Unknown repayment method"),
        ({"start": "2025-02-30"}, "invalid_start", "a date like 2025-01-31"),
        ({"start": "tomorrow"}, "invalid_start", "a date like 2025-01-31"),
        ({"start": "9999-06-01"}, "invalid_start", "too far in the future"),
    ],
)
def test_bad_input_is_refused_with_a_clear_message(client, params, code, message):
    query = {"amount": "1000000", "annualRate": "0.12", "months": "12", "method": "EQUAL_INSTALLMENT", **params}
    response = get(client, **{k: v for k, v in query.items() if v is not None})
    assert response.status_code == 400, response.content
    body = response.json()
    assert set(body) == {"code", "message"}
    assert body["code"] == code
    assert message in body["message"]


def test_openapi_documents_the_calculator(client):
    schema = client.get("/api/v1/openapi.json").json()
    operation = schema["paths"][API]["get"]
    assert operation["tags"] == ["calculator"]
    assert {p["name"] for p in operation["parameters"]} == {"amount", "annualRate", "months", "method", "start"}


# -- the page ------------------------------------------------------------------------------------


def chart_data(html: str, data_id: str) -> dict:
    found = re.search(rf'<script id="{data_id}" type="application/json">(.*?)</script>', html, re.S)
    return json.loads(found.group(1))


def text(html: bytes) -> str:
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", html.decode()))


def test_page_shows_the_default_example(client):
    response = client.get("/calculator")
    assert response.status_code == 200
    page = text(response.content)
    assert "Monthly payment ¥888.49" in page
    assert "Total interest ¥661.86" in page
    assert "Total repayment ¥10,661.86" in page
    assert "Total ¥10,000.00 ¥661.86 ¥10,661.86" in page
    html = response.content.decode()
    chart = chart_data(html, "schedule-chart-data")  # drawn by ECharts; the table above is the same data
    assert chart["categories"] == [str(n) for n in range(1, 13)]
    principal, interest = (s["data"] for s in chart["series"])
    assert sum(principal) == 1_000_000 and sum(interest) == 66_186 and principal[0] + interest[0] == 88_849
    assert 'href="/api/v1/calculator?amount=1000000&amp;annualRate=0.12&amp;months=12&amp;method=EQUAL_INSTALLMENT"' in html


def test_page_schedule_table(client):
    response = client.get("/calculator", {"amount": "1000", "rate": "12", "months": "3", "method": "EQUAL_PRINCIPAL",
                                          "start": "2025-01-31"})
    page = text(response.content)
    assert "First payment ¥343.34" in page
    assert "1 2025-02-28 ¥333.34 ¥10.00 ¥343.34 ¥666.66" in page
    assert "3 2025-04-30 ¥333.33 ¥3.33 ¥336.66 ¥0.00" in page
    assert "Total ¥1,000.00 ¥20.00 ¥1,020.00" in page


def test_page_bullet_over_30_years(client):
    response = client.get("/calculator", {"amount": "50000", "rate": "8.5", "months": "360", "method": "BULLET"})
    page = text(response.content)
    # 5,000,000 × 0.085 × 360 / 12 = 12,750,000 fen.
    assert "Total interest ¥127,500.00" in page
    assert chart_data(response.content.decode(), "schedule-chart-data")["series"][0]["data"] == [5_000_000]


@pytest.mark.parametrize(("params", "message"), [
    ({"amount": "-5"}, "The amount must be at least ¥0.01."),
    ({"amount": "0"}, "The amount must be at least ¥0.01."),
    ({"amount": "1.005"}, "at most 2 decimal places"),
    ({"amount": "abc"}, "Enter the amount in yuan"),
    ({"amount": "1,00"}, "Enter the amount in yuan"),  # parse_yuan: thousands in whole groups only
    ({"amount": "1e5"}, "Enter the amount in yuan"),
    ({"amount": "１００"}, "Enter the amount in yuan"),  # full-width digits
    ({"amount": "12."}, "Enter the amount in yuan"),
    ({"amount": "9" * 5000}, "at most ¥10,000,000,000.00"),
    ({"amount": "10000000000.01"}, "at most ¥10,000,000,000.00"),
    ({"rate": "36.5"}, "The annual rate must be at most 36%."),
    ({"rate": "360"}, "The annual rate must be at most 36%."),
    ({"rate": "12.00001"}, "at most 4 decimal places"),
    ({"rate": "-1"}, "must not be negative"),
    ({"rate": "twelve"}, "Enter the annual rate in percent"),
    ({"months": "0"}, "from 1 to 360"),
    ({"months": "400"}, "from 1 to 360"),
    ({"method": "BALLOON"}, "Choose one of the repayment methods"),
    ({"start": "9999-12-31"}, "too far in the future"),
])
def test_page_refuses_bad_input(client, params, message):
    query = {"amount": "10000", "rate": "12", "months": "12", "method": "EQUAL_INSTALLMENT", **params}
    response = client.get("/calculator", query)
    assert response.status_code == 200
    html = response.content.decode()
    assert 'role="alert"' in html
    assert message in text(response.content)
    assert text(response.content).count(message) == 1  # once, even when two validators refuse the value
    assert "schedule-chart" not in html


def test_page_reads_the_amount_as_every_money_input_does(client):
    """The calculator's amount is the one YuanField (``core.money.parse_yuan``): a yen sign,
    thousands separators and spaces are read, exactly to the fen."""
    response = client.get("/calculator", {"amount": " ¥1,000.50 ", "rate": "0", "months": "1", "method": "BULLET"})
    assert 'role="alert"' not in response.content.decode()
    assert "¥1,000.50 over 1 month" in text(response.content)
    assert "amount=100050&amp;" in response.content.decode()
