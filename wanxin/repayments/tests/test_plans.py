"""Plan generation for every repayment method (database only, no bank): the borrower's
principals add up to the loan, each period's receivable principals to the borrower's, each
tender's to its amount; the platform's share is interest minus the investors' and never
negative; the database refuses a negative amount."""

from __future__ import annotations

import datetime as dt
import secrets
from decimal import Decimal

import pytest
from django.contrib.auth import get_user_model
from django.db import IntegrityError, transaction

from wanxin.lending import selectors as lending_selectors
from wanxin.lending.models import LoanApplication, Project, Tender
from wanxin.repayments import domain, services
from wanxin.repayments.models import ReceivablePlan, RepaymentPlan

pytestmark = pytest.mark.django_db

User = get_user_model()


def user():
    return User.objects.create_user(username=f"p{secrets.token_hex(4)}", password="x-pass-9",
                                    mobile=f"139{secrets.randbelow(10**8):08d}", role="BOTH")


def loaned(amount: int, months: int, method: str, holdings: list[int]) -> Project:
    borrower = user()
    application = LoanApplication.objects.create(borrower=borrower, product=lending_selectors.product_default(),
                                                 amount=amount, months=months, method=method, purpose="test")
    project = Project.objects.create(application=application, borrower=borrower,
                                     project_no=f"P{secrets.token_hex(6)}", name="test", amount=amount, months=months,
                                     method=method, status="REPAYING", borrower_rate=Decimal("0.137"),
                                     investor_rate=Decimal("0.091"), raised=amount, frozen_amount=amount)
    for i, part in enumerate(holdings):
        Tender.objects.create(project=project, investor=user(), amount=part, status="LOANED",
                              request_no=f"T{project.project_no}{i}")
    return project


@pytest.mark.parametrize("method", list(domain.METHODS))
def test_plans_add_up_for_every_method(method):
    holdings = [333_33, 1_234_567, 77_700, 1_000_00 - 333_33 + 1]
    amount = sum(holdings)
    project = loaned(amount, 7, method, holdings)
    plans = services.plans_generate(project=project, start=dt.date(2025, 1, 31))
    rows = list(RepaymentPlan.objects.filter(project=project).order_by("number"))
    assert len(rows) == len(plans) == (1 if method == domain.BULLET else 7)
    assert sum(p.principal for p in rows) == amount
    assert rows[0].due_date == (dt.date(2025, 2, 28) if method != domain.BULLET else dt.date(2025, 8, 31))
    for plan in rows:
        parts = list(ReceivablePlan.objects.filter(plan=plan))
        assert len(parts) == 4
        assert sum(r.principal for r in parts) == plan.principal
        assert plan.platform_share == plan.interest - sum(r.interest for r in parts) >= 0
    for tender in Tender.objects.filter(project=project):
        assert sum(ReceivablePlan.objects.filter(tender=tender).values_list("principal", flat=True)) == tender.amount
    assert services.plans_generate(project=project) and RepaymentPlan.objects.filter(project=project).count() == len(rows)


def test_database_refuses_negative_amounts():
    project = loaned(1_000_00, 1, domain.BULLET, [1_000_00])
    (plan,) = services.plans_generate(project=project, start=dt.date(2025, 1, 1))
    for field, value in (("principal", -1), ("penalty", -1), ("platform_share", plan.interest + 1)):
        with pytest.raises(IntegrityError), transaction.atomic():
            RepaymentPlan.objects.filter(pk=plan.pk).update(**{field: value})
    with pytest.raises(IntegrityError), transaction.atomic():
        ReceivablePlan.objects.filter(plan=plan).update(interest=-1)
