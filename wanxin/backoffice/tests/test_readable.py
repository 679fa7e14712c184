"""What operators read (issue 11): the audit log in yuan, percent and labels, not fen,
fractions and codes; the customer list without the Django staff account."""

from __future__ import annotations

import pytest
from django.test import Client

from wanxin.accounts.models import User
from wanxin.audit import roles
from wanxin.audit.log import audit_record

from . import factories as f

pytestmark = pytest.mark.django_db


def client_for(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def test_audit_log_shows_yuan_percent_and_labels():
    admin = f.operator(roles.SUPER_ADMIN)
    audit_record(actor=admin, action="loan.approve", target=("lending.project", 7),
                 before={"status": "PENDING_REVIEW", "amount": 123456, "raised": 0},
                 after={"status": "PENDING_REVIEW", "amount": 123456, "borrower_rate": "0.120000",
                        "service_fee_rate": "0.015000", "min_investment": "10000"})
    html = client_for(admin).get("/backoffice/audit/").content.decode()
    table = html.split('id="audit"')[1]
    assert "¥1,234.56" in table and "12%" in table and "1.5%" in table and "¥100.00" in table
    assert "Pending Review" in table and "Loan approved" in table and "Loan #7" in table
    for raw in ("123456", "0.120000", "PENDING_REVIEW", "loan.approve", "lending.project"):
        assert raw not in table, raw


def test_customer_list_leaves_out_staff_accounts():
    User.objects.create_superuser("admin", "admin@example.com", "a-long-pass-phrase-9")
    person = f.customer()
    html = client_for(f.operator(roles.CUSTOMER_SERVICE)).get("/backoffice/customers/").content.decode()
    rows = html.split('id="customers"')[1].split("</table>")[0]
    assert person.username in rows and ">admin<" not in rows
