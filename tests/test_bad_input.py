"""Inputs that used to crash with HTTP 500 (issue 9, item 4): each is now a 4xx whose message
says what to fix, and nothing is recorded."""

from __future__ import annotations

import json

import pytest
from django.test import Client

from wanxin.accounts.auth import token_issue
from wanxin.accounts.models import ApiToken
from wanxin.audit import roles
from wanxin.backoffice.tests import factories
from wanxin.funds.models import FundRecord
from wanxin.kyc.models import KycDocument

pytestmark = pytest.mark.django_db

BIG = 600 * 1024  # over DATA_UPLOAD_MAX_MEMORY_SIZE (512 KB)


@pytest.fixture
def customer():
    return factories.customer()


@pytest.fixture
def api(customer) -> Client:
    return Client(HTTP_AUTHORIZATION=f"Bearer {token_issue(user=customer)}")


@pytest.fixture
def web(customer) -> Client:
    client = Client()
    client.force_login(customer)
    return client


def _refused(response, status: int = 400, *, words: str = "") -> dict:
    assert response.status_code == status, response.content[:500]
    body = response.json()
    assert body["message"], body
    assert words.lower() in (body["message"] + str(body.get("detail", ""))).lower(), body
    return body


def _state() -> tuple[int, int, int]:
    return FundRecord.objects.count(), KycDocument.objects.count(), ApiToken.objects.count()


# -- dates at the calendar's end ----------------------------------------------------------------


@pytest.mark.parametrize("path", ["/api/v1/funds/records", "/api/v1/funds/statistics", "/api/v1/funds/records.csv"])
@pytest.mark.parametrize("query", ["date_to=9999-12-31", "date_from=0001-01-01", "date_from=9999-12-31"])
def test_api_far_dates_are_refused_before_streaming(api, path, query):
    before = _state()
    _refused(api.get(f"{path}?{query}"), words="between 1900-01-01 and 2999-12-31")
    assert _state() == before


@pytest.mark.parametrize("path", ["/funds/records", "/funds/statistics"])
def test_pages_far_dates_show_the_form_error(web, path):
    response = web.get(f"{path}?date_to=9999-12-31")
    assert response.status_code == 200
    assert "must be between 1900-01-01 and 2999-12-31" in response.content.decode()


def test_csv_page_far_date_goes_back_with_the_message_before_streaming(web):
    response = web.get("/funds/records.csv?date_to=9999-12-31", follow=True)
    assert response.redirect_chain == [("/funds/records", 302)]
    assert "must be between 1900-01-01 and 2999-12-31" in response.content.decode()


def test_backoffice_audit_far_date_is_refused():
    client = Client()
    client.force_login(factories.operator(*roles.ROLES))
    response = client.get("/api/v1/backoffice/audit?date_to=9999-12-31")
    assert response.status_code == 422, response.content
    assert "date_to" in response.content.decode()


def test_calculator_far_start_date_is_refused():
    response = Client().get("/api/v1/calculator?amount=10000&annualRate=0.12&months=360&method=EQUAL_INSTALLMENT"
                            "&start=2999-12-31")
    assert response.status_code < 500
    response = Client().get("/api/v1/calculator?amount=10000&annualRate=0.12&months=12&method=EQUAL_INSTALLMENT"
                            "&start=9999-12-31")
    _refused(response, words="start date")


# -- numbers beyond what PostgreSQL holds ------------------------------------------------------


@pytest.mark.parametrize("value", ["1e999999", "-1e999999", "NaN", "Infinity", "-Infinity", "1e-999999"])
@pytest.mark.parametrize("name", ["rate_min", "rate_max"])
def test_hall_rate_out_of_range_is_refused(name, value):
    response = Client().get(f"/api/v1/loans/projects?{name}={value}")
    assert response.status_code == 422, response.content
    assert name in response.content.decode()


@pytest.mark.parametrize("name", ["months_min", "months_max", "amount_min", "amount_max", "page", "page_size"])
def test_hall_integer_out_of_range_is_refused(name):
    response = Client().get(f"/api/v1/loans/projects?{name}={10**30}")
    assert response.status_code == 422, response.content
    assert name in response.content.decode()


def test_hall_page_rate_out_of_range_shows_the_form_error():
    response = Client().get("/loans/?rate_min=1e999999")
    assert response.status_code in (200, 400)


# -- NUL characters --------------------------------------------------------------------------------


def test_nul_in_a_query_value_is_refused():
    _refused(Client().get("/api/v1/loans/projects?q=a%00b"), words="“q” contains a NUL")


def test_nul_in_a_page_query_is_refused():
    response = Client().get("/loans/?q=a%00b")
    assert response.status_code == 400
    assert b"NUL" in response.content


def test_nul_in_the_login_username_is_refused(customer):
    before = _state()
    body = json.dumps({"username": "ali\x00ce", "password": "x"})
    _refused(Client().post("/api/v1/accounts/login", body, content_type="application/json"),
             words="“username” contains a NUL")
    assert _state() == before


def test_nul_in_the_login_page_form_is_refused():
    response = Client().post("/accounts/login", {"username": "ali\x00ce", "password": "x"})
    assert response.status_code == 400
    assert b"NUL" in response.content


def test_escaped_backslash_before_u0000_is_not_nul(customer):
    body = json.dumps({"username": "ali\\u0000ce", "password": "x"})  # a backslash, then text
    assert "\\\\u0000" in body
    response = Client().post("/api/v1/accounts/login", body, content_type="application/json")
    assert response.status_code in (401, 400, 403)
    assert response.json().get("code") != "nul_character"


# -- malformed multipart -----------------------------------------------------------------------------


def test_multipart_without_boundary_is_refused(api):
    before = _state()
    response = api.generic("POST", "/api/v1/kyc/documents", b"--x\r\n\r\n", content_type="multipart/form-data")
    _refused(response, words="boundary")
    assert _state() == before


def test_multipart_part_headers_that_never_end_are_refused(api):
    before = _state()
    body = b"--XyZ\r\nContent-Disposition: form-data; name=\"kind\"\r\n" + b"X-Pad: " + b"a" * 2000
    response = api.generic("POST", "/api/v1/kyc/documents", body, content_type="multipart/form-data; boundary=XyZ")
    assert 400 <= response.status_code < 500, response.content
    assert response.json()["message"]
    assert _state() == before


# -- bodies over the limit ---------------------------------------------------------------------------


@pytest.mark.parametrize("path", ["/api/v1/accounts/login", "/api/v1/loans/applications", "/api/v1/kyc/application"])
def test_api_body_over_the_limit_is_413(api, path):
    before = _state()
    body = json.dumps({"username": "a" * BIG, "password": "x"})
    _refused(api.post(path, body, content_type="application/json"), 413, words="512 KB")
    assert _state() == before


def test_page_form_over_the_limit_is_413():
    response = Client().post("/accounts/login", {"username": "a" * BIG, "password": "x"})
    assert response.status_code == 413
    assert b"512 KB" in response.content
