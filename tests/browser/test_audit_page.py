"""The back-office audit page on a phone (390 px), in Chinese and in English: the hash chain's
verdict (with its 64-character head) and the filters fit without sideways scrolling, actions are
chosen by their translated label, and a row edited behind the trigger's back is named."""

from __future__ import annotations

import secrets
from pathlib import Path

import pytest

CHROMIUM = Path("/usr/bin/chromium")
if not CHROMIUM.exists():
    pytest.skip(f"{CHROMIUM} is not installed", allow_module_level=True)

from django.db import connection  # noqa: E402
from playwright.sync_api import Page, expect  # noqa: E402

from wanxin.audit import roles  # noqa: E402
from wanxin.audit.actions import AuditAction  # noqa: E402
from wanxin.audit.guards import SYSTEM  # noqa: E402
from wanxin.audit.log import audit_record  # noqa: E402
from wanxin.backoffice import services as backoffice  # noqa: E402
from wanxin.backoffice.tests.factories import ensure_roles  # noqa: E402

from .conftest import LANGUAGES  # noqa: E402

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

PASSWORD = "a-long-operator-passphrase-42"
LABELS = {"zh-CN": ("资质审核通过", "立即校验", "完整", "被修改"), "en-US": ("Qualifications approved", "Verify now",
                                                                   "Intact", "edited")}


def fits(page: Page) -> None:
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth"), page.url


@pytest.mark.parametrize("page", LANGUAGES, indirect=True)
def test_audit_page_on_a_phone(page, live_urls, settings, request):
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    locale = request.node.callspec.params["page"]
    approved, verify, intact, edited = LABELS[locale]
    ensure_roles()
    admin, _ = backoffice.operator_create(actor=SYSTEM, username=f"audit_{secrets.token_hex(3)}", password=PASSWORD,
                                          role_names=[roles.SUPER_ADMIN])
    rows = [audit_record(actor=admin, action=AuditAction.KYC_APPROVE, target=("kyc.kycapplication", i),
                         before={"status": "SUBMITTED"}, after={"status": "APPROVED", "credit_limit": 5_000_000,
                                                                 "reason": "documents complete " * 4})
            for i in range(3)]
    page.set_viewport_size({"width": 390, "height": 844})
    page.goto(f"{live_urls}/backoffice/login?next=/backoffice/audit/")
    page.fill("#id_username", admin.username)
    page.fill("#id_password", PASSWORD)
    page.click("main button[type=submit]")
    page.wait_for_url(f"{live_urls}/backoffice/audit/")

    page.get_by_role("button", name=verify).click()
    chain = page.locator("#audit-chain")
    expect(chain).to_contain_text(intact)
    fits(page)

    page.select_option("#id_action", label=approved)
    page.click("main form.filters button[type=submit]")
    expect(page.locator("#audit tbody tr")).to_have_count(3)
    expect(page.locator("#audit tbody tr").first).to_contain_text(approved)
    fits(page)

    with connection.cursor() as cursor:  # an attacker with database access, trigger set aside
        cursor.execute("ALTER TABLE backoffice_auditlog DISABLE TRIGGER backoffice_auditlog_append_only")
        cursor.execute("UPDATE backoffice_auditlog SET target_id = '9' WHERE id = %s", [rows[1].pk])
        cursor.execute("ALTER TABLE backoffice_auditlog ENABLE TRIGGER backoffice_auditlog_append_only")
    page.get_by_role("button", name=verify).click()
    expect(chain).to_contain_text(f"#{rows[1].pk}")
    expect(chain).to_contain_text(edited)
    fits(page)
