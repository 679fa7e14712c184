"""Separation of duties on disbursement (issue 9, item 3), through the pages an operator
really uses. The reproduction: an administrator who proposed a disbursement creates an
operator `shadowfin` with the finance role, logs in as it and approves. Now the finance
role waits for a second administrator, and even once confirmed the checker is refused
because its maker created it (or granted it the role); nothing reaches the bank."""

from __future__ import annotations

import pytest
from django.test import Client

from wanxin.accounts.models import User
from wanxin.audit import roles
from wanxin.audit.models import AuditLog, RoleGrant
from wanxin.backoffice.tests import factories as f
from wanxin.bank import invariants
from wanxin.depository.models import DepositoryRequest
from wanxin.lending import services
from wanxin.lending.models import Disbursement, Project

from .conftest import bank_balance, collecting, customer

pytestmark = pytest.mark.django_db(transaction=True, databases=["default", "bank"])

SHADOW_PASSWORD = "Shadow-fin-pass-2026"


def client_for(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def logged_in(username: str, password: str) -> Client:
    """A session made by the real back-office login form (not force_login)."""
    client = Client()
    response = client.post("/backoffice/login", {"username": username, "password": password})
    assert response.status_code == 302 and "/login" not in response["Location"], response.content[:300]
    return client


def messages_after(client: Client, response) -> str:
    assert response.status_code == 302, response.content[:300]
    return client.get(response["Location"]).content.decode()


@pytest.fixture
def full_loan(live, reviewer):
    borrower = customer(kyc_limit=100_000_00)
    project = collecting(borrower, reviewer, amount=1_000_00)
    services.tender_place(investor=customer(balance=1_000_00), project_id=project.pk, amount=1_000_00)
    project.refresh_from_db()
    assert project.status == "FULL"
    return project


def nothing_paid_out(project: Project, proposal: Disbursement) -> None:
    assert Disbursement.objects.get(pk=proposal.pk).status == "PROPOSED"
    assert Project.objects.get(pk=project.pk).status == "FULL"
    assert not DepositoryRequest.objects.filter(service_name="CONFIRM_LOAN").exists()
    assert bank_balance(project.borrower.user_no) == (0, 0)


def test_shadow_operator_cannot_approve_its_makers_disbursement(full_loan, reviewer):
    project = full_loan
    # An administrator who also reviews loans: managing operators and proposing a payment
    # may sit together; moving money may not.
    boss = f.operator(roles.SUPER_ADMIN, roles.LOAN_REVIEWER, username="boss")
    second_admin = f.operator(roles.SUPER_ADMIN, username="second")
    boss_client, second_client = client_for(boss), client_for(second_admin)

    # 1. The administrator proposes the disbursement (the maker).
    assert boss_client.post(f"/loans/review/{project.pk}/propose").status_code == 302
    proposal = Disbursement.objects.get(project=project)
    assert proposal.proposed_by == boss

    # 2. ...creates `shadowfin` with the finance role: the role waits for a second administrator.
    response = boss_client.post("/backoffice/operators/new", {
        "username": "shadowfin", "full_name": "", "email": "", "password": SHADOW_PASSWORD,
        "roles": [roles.FINANCE_OFFICER]})
    assert "Awaiting a second administrator" in messages_after(boss_client, response)
    shadow = User.objects.get(username="shadowfin")
    assert shadow.created_by == boss and list(shadow.groups.all()) == []
    grant = RoleGrant.objects.get(operator=shadow)
    assert (grant.status, grant.role, grant.proposed_by) == ("PENDING", roles.FINANCE_OFFICER, boss)

    # 3. Until confirmed, shadowfin holds nothing: the approval page and action are refused.
    shadow_client = logged_in("shadowfin", SHADOW_PASSWORD)
    assert shadow_client.get("/loans/review/disbursements/").status_code == 403
    assert shadow_client.post(f"/loans/review/disbursements/{proposal.pk}/approve").status_code == 403
    nothing_paid_out(project, proposal)

    # 4. The administrator cannot confirm their own proposal (page and API).
    page = messages_after(boss_client, boss_client.post(f"/backoffice/operators/grants/{grant.pk}/confirm"))
    assert "You proposed this grant; another administrator must confirm it." in page
    api = boss_client.post(f"/api/v1/backoffice/grants/{grant.pk}/confirm", content_type="application/json")
    assert (api.status_code, api.json()["code"]) == (403, "own_proposal")
    assert RoleGrant.objects.get(pk=grant.pk).status == "PENDING"
    assert not User.objects.get(pk=shadow.pk).has_perm("backoffice.approve_disbursement")

    # 5. A second administrator confirms; shadowfin is a finance officer now...
    second_client.post(f"/backoffice/operators/grants/{grant.pk}/confirm")
    grant.refresh_from_db()
    assert (grant.status, grant.decided_by) == ("CONFIRMED", second_admin)
    assert User.objects.get(pk=shadow.pk).has_perm("backoffice.approve_disbursement")

    # 6. ...but not independent of the maker who created it: refused, nothing pays out.
    page = messages_after(shadow_client, shadow_client.post(f"/loans/review/disbursements/{proposal.pk}/approve"))
    assert "You were created by the operator who made this request" in page
    nothing_paid_out(project, proposal)

    # 7. Nor an existing operator the maker gave the finance role (even confirmed by another).
    clerk = f.operator(roles.CUSTOMER_SERVICE, username="clerk")
    response = boss_client.post(f"/api/v1/backoffice/operators/{clerk.pk}/grants", {"role": roles.FINANCE_OFFICER},
                                content_type="application/json")
    assert response.status_code == 201 and response.json()["status"] == "PENDING"
    second_client.post(f"/api/v1/backoffice/grants/{response.json()['id']}/confirm", content_type="application/json")
    clerk_client = client_for(User.objects.get(pk=clerk.pk))
    page = messages_after(clerk_client, clerk_client.post(f"/loans/review/disbursements/{proposal.pk}/approve"))
    assert "proposed or confirmed your role" in page
    nothing_paid_out(project, proposal)

    # 8. A finance officer independent of the maker approves: the loan pays out.
    finance = f.operator(roles.FINANCE_OFFICER, username="fin")
    assert client_for(finance).post(f"/loans/review/disbursements/{proposal.pk}/approve").status_code == 302
    assert Disbursement.objects.get(pk=proposal.pk).status == "DONE"
    assert Project.objects.get(pk=project.pk).status == "REPAYING"
    assert bank_balance(project.borrower.user_no) == (1_000_00 - 20_00, 0)  # less the 2% service fee
    assert invariants.total_balance() == 0

    # Every step is in the audit log, by whom it was done.
    steps = list(AuditLog.objects.filter(action__in=[
        "loan.disbursement_propose", "operator.create", "operator.grant_propose", "operator.grant_confirm",
        "auth.login", "loan.disbursement_approve"]).order_by("id").values_list("action", "actor_username"))
    assert steps == [
        ("loan.disbursement_propose", "boss"),
        ("operator.create", "boss"),
        ("operator.grant_propose", "boss"),
        ("auth.login", "shadowfin"),
        ("operator.grant_confirm", "second"),
        ("operator.grant_propose", "boss"),
        ("operator.grant_confirm", "second"),
        ("loan.disbursement_approve", "fin"),
    ]


def test_normal_maker_checker_still_works(full_loan, reviewer):
    """A loan reviewer proposes; a finance officer whose role came through a grant proposed
    and confirmed by two administrators (neither of them the maker) approves."""
    admin_a, admin_b = f.operator(roles.SUPER_ADMIN), f.operator(roles.SUPER_ADMIN)
    assert client_for(reviewer).post(f"/loans/review/{full_loan.pk}/propose").status_code == 302
    proposal = Disbursement.objects.get(project=full_loan)
    client_for(admin_a).post("/backoffice/operators/new", {
        "username": "newfin", "password": SHADOW_PASSWORD, "roles": [roles.FINANCE_OFFICER]})
    grant = RoleGrant.objects.get(operator__username="newfin")
    client_for(admin_b).post(f"/backoffice/operators/grants/{grant.pk}/confirm")
    newfin = logged_in("newfin", SHADOW_PASSWORD)
    assert newfin.post(f"/loans/review/disbursements/{proposal.pk}/approve").status_code == 302
    proposal.refresh_from_db()
    assert (proposal.status, proposal.approved_by.username) == ("DONE", "newfin")
