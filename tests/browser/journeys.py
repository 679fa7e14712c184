"""What the browser journeys share: their marks, the passwords of their people, operators
made for a journey, and the password login. Importing it skips the importing module when
Chromium is missing; the journeys' settings are the ``journey_settings`` fixture of
``conftest``."""

from __future__ import annotations

import secrets

import pytest
from playwright.sync_api import Page, expect

from wanxin.audit.guards import SYSTEM
from wanxin.backoffice import services as backoffice
from wanxin.backoffice.tests.factories import ensure_roles

from .conftest import CHROMIUM

if not CHROMIUM.exists():
    pytest.skip(f"{CHROMIUM} is not installed", allow_module_level=True)

MARKS = [pytest.mark.browser, pytest.mark.django_db(transaction=True, databases=["default", "bank"])]
CUSTOMER_PASSWORD = "x-pass-9"  # the lending helpers' customers (wanxin.lending.tests.conftest.customer)
OPERATOR_PASSWORD = "a-long-operator-passphrase-42"


def operator(role: str, name: str):
    """A back-office operator holding ``role``, with ``OPERATOR_PASSWORD``."""
    ensure_roles()
    user, _ = backoffice.operator_create(actor=SYSTEM, username=f"{name}_{secrets.token_hex(3)}",
                                         password=OPERATOR_PASSWORD, role_names=[role])
    return user


def log_in(page: Page, live: str, user, next_path: str, *, operator: bool = False,
           heading: str | None = None) -> None:
    """A fresh session (cookies cleared), then the password login of a customer or (``operator``)
    an operator, landing on ``next_path`` with their name in the header. ``heading``: what the
    login page's h1 must say first."""
    page.context.clear_cookies()
    page.goto(f"{live}/{'backoffice' if operator else 'accounts'}/login?next={next_path}")
    if heading is not None:
        expect(page.locator("h1")).to_have_text(heading)
    page.fill("#id_username", user.username)
    page.fill("#id_password", OPERATOR_PASSWORD if operator else CUSTOMER_PASSWORD)
    page.click("main button[type=submit]")
    page.wait_for_url(f"{live}{next_path}")
    expect(page.locator("header .who")).to_contain_text(user.username)


def no_sideways_scroll(page: Page) -> None:
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth"), page.url
