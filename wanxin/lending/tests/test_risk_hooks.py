"""The risk rules where lending consults them (``wanxin.risk``), against the bank over live HTTP: a loan application
refused by the blacklist, the rating limit, concurrent loans and age; a bid refused by the
investor-share limit; nothing recorded for a refused action but its logged check; the hits on
the loan and KYC review pages."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.test import Client

from wanxin.audit import roles
from wanxin.backoffice.tests import factories as f
from wanxin.depository.models import DepositoryRequest
from wanxin.fields import blind_index
from wanxin.kyc.models import KycApplication
from wanxin.lending import services as lending
from wanxin.lending.models import Project, Tender
from wanxin.risk import domain, services
from wanxin.risk.models import RuleCheck
from wanxin.risk.tests.conftest import make_rule

from .conftest import applied, collecting, customer

pytestmark = pytest.mark.django_db(transaction=True, databases=["default", "bank"])

OLD_ID = "11010519491231002X"  # born 1949-12-31


@pytest.fixture
def officer():
    return f.operator(roles.RISK_OFFICER)


def refused_application(borrower, amount: int = 10_000_00) -> services.RiskBlocked:
    projects = Project.objects.count()
    with pytest.raises(services.RiskBlocked) as info:
        applied(borrower, amount=amount)
    assert Project.objects.count() == projects  # nothing recorded but the check
    return info.value


def test_loan_application_rules(live, officer):
    borrower = customer(kyc_limit=1_000_000_00)  # rated A
    KycApplication.objects.filter(customer=borrower).update(id_number=OLD_ID, id_number_index=blind_index(OLD_ID))

    limit = make_rule(officer, "BORROW_LIMIT", "A", amount=9_999_99)
    error = refused_application(borrower)
    assert error.status == 403
    assert error.message == ("Refused by the platform's risk rules: Borrowers rated A may owe at most ¥9,999.99; "
                             "with this application the borrower would owe ¥10,000.00.")
    services.rule_expire(operator=officer, rule_id=limit.pk)

    most = make_rule(officer, "CONCURRENT_LOANS", count=0)
    assert "at most 0 loans at once; this borrower already has 0." in refused_application(borrower).message
    services.rule_expire(operator=officer, rule_id=most.pk)

    ages = make_rule(officer, "AGE", min_age=22, max_age=65)
    assert "Borrowers must be 22 to 65 years old; this one is 76." in refused_application(borrower).message
    services.rule_expire(operator=officer, rule_id=ages.pk)

    entry = services.blacklist_add(operator=officer, kind="ID_NUMBER", value=OLD_ID)
    assert "The ID number used is on the platform's blacklist." in refused_application(borrower).message
    services.blacklist_expire(operator=officer, entry_id=entry.pk)

    make_rule(officer, "AGE", action=domain.WARN, min_age=22, max_age=65)  # a warning lets it through
    project = applied(borrower)
    assert project.status == "PENDING_REVIEW"
    checks = list(RuleCheck.objects.filter(kind="LOAN_APPLICATION").order_by("id"))
    assert [c.outcome for c in checks] == ["BLOCK", "BLOCK", "BLOCK", "BLOCK", "WARN"]
    assert all(c.customer_id == borrower.pk for c in checks)
    assert checks[-1].figures | {"amount": 10_000_00, "loans_running": 0, "credit_in_use": 0} == checks[-1].figures

    # The reviewer sees the warning on the loan's review page and on the KYC page.
    client = Client()
    client.force_login(f.operator(roles.LOAN_REVIEWER))
    page = client.get(f"/loans/review/{project.pk}").content.decode()
    assert "Borrowers must be 22 to 65 years old; this one is 76." in page
    assert "Borrower score" in page
    kyc = KycApplication.objects.get(customer=borrower)
    assert "Borrowers must be 22 to 65 years old; this one is 76." in client.get(f"/backoffice/kyc/{kyc.pk}").content.decode()


def test_bid_refused_above_the_investor_share(live, officer, reviewer):
    project = collecting(customer(kyc_limit=1_000_000_00), reviewer, amount=10_000_00)
    investor = customer(balance=100_000_00)
    make_rule(officer, "INVESTOR_SHARE", percent=Decimal("20"))
    first = lending.tender_place(investor=investor, project_id=project.pk, amount=2_000_00)  # exactly 20 %
    requests = DepositoryRequest.objects.count()
    with pytest.raises(services.RiskBlocked) as info:
        lending.tender_place(investor=investor, project_id=project.pk, amount=100_00)
    assert info.value.message == (
        "Refused by the platform's risk rules: One investor may hold at most 20.00% of a loan; this bid would "
        "bring their share to 21.00% (¥2,100.00 of ¥10,000.00).")
    assert list(Tender.objects.filter(investor=investor).values_list("pk", flat=True)) == [first.pk]
    assert DepositoryRequest.objects.count() == requests
    project.refresh_from_db()
    assert project.raised == 2_000_00
    bids = list(RuleCheck.objects.filter(kind="BID").order_by("id"))
    assert [(b.outcome, b.figures["investor_holding"], b.figures["amount"]) for b in bids] == [
        ("PASS", 0, 2_000_00), ("BLOCK", 2_000_00, 100_00)]
    assert bids[1].figures["loan_amount"] == 10_000_00 and bids[1].figures["project_no"] == project.project_no
