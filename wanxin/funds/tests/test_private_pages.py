"""Pages that show a customer's depository requests or personal data are never stored by a
browser or proxy cache, and a hand-off to the bank is served to its owner only."""

from __future__ import annotations

import pytest
from django.test import Client

from wanxin.funds import services

from .conftest import client_for, make_customer, open_account

pytestmark = pytest.mark.django_db(transaction=True, databases=["default", "bank"])

PRIVATE_PAGES = ["/funds/", "/funds/records", "/funds/statistics", "/funds/account/open", "/accounts/", "/kyc/"]


def test_private_pages_are_no_store(live, customer):
    web = client_for(customer)
    for url in PRIVATE_PAGES:
        page = web.get(url, follow=True)
        assert page.status_code == 200, url
        assert "no-store" in page["Cache-Control"], url


def test_the_hand_off_is_for_its_owner_only(live, customer):
    open_account(customer)
    record = services.recharge_start(user=customer, amount=1_000)
    url = f"/funds/go/{record.request_no}"
    anonymous = Client().get(url)
    assert anonymous.status_code == 302 and anonymous["Location"].startswith("/accounts/login")
    assert client_for(make_customer()).get(url).status_code == 404
    owner = client_for(customer).get(url)
    assert owner.status_code == 200 and "no-store" in owner["Cache-Control"]
    record.refresh_from_db()
    assert record.gateway_signed_at is not None  # signed once, for the owner's visit only
