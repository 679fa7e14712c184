"""Grants of roles that need a second administrator: inert until another administrator
confirms, never confirmed by their proposer, every step audited; and the duty rules."""

from __future__ import annotations

import io

import pytest
from django.core.management import call_command

from wanxin.accounts.models import User
from wanxin.audit import duties, roles
from wanxin.audit.guards import Forbidden
from wanxin.audit.models import AuditLog, RoleGrant
from wanxin.backoffice.services import (
    grant_cancel,
    grant_confirm,
    grant_propose,
    operator_create,
    operator_roles_set,
)
from wanxin.core.errors import Conflict, WanxinError

from . import factories as f

pytestmark = pytest.mark.django_db

APPROVE = "backoffice.approve_disbursement"


def fresh(user: User) -> User:
    return User.objects.get(pk=user.pk)  # no cached permissions


@pytest.fixture
def admins():
    return f.operator(roles.SUPER_ADMIN, username="ann"), f.operator(roles.SUPER_ADMIN, username="bob")


def test_a_grant_is_inert_until_a_second_administrator_confirms(admins):
    ann, bob = admins
    clerk = f.operator(roles.CUSTOMER_SERVICE)
    grant = grant_propose(actor=ann, operator_id=clerk.pk, role=roles.FINANCE_OFFICER)
    assert (grant.status, grant.proposed_by, grant.decided_by) == ("PENDING", ann, None)
    assert not fresh(clerk).has_perm(APPROVE)
    assert [g.name for g in fresh(clerk).groups.all()] == [roles.CUSTOMER_SERVICE]

    grant = grant_confirm(actor=bob, grant_id=grant.pk)
    assert (grant.status, grant.proposed_by, grant.decided_by) == ("CONFIRMED", ann, bob)
    assert grant.decided_at >= grant.proposed_at
    assert fresh(clerk).has_perm(APPROVE)

    audit = list(AuditLog.objects.order_by("id").values_list("action", "actor_username", "target_type", "target_id",
                                                             "before__status", "after__status", "after__roles"))
    assert audit == [
        ("operator.grant_propose", "ann", "backoffice.rolegrant", str(grant.pk), None, "PENDING",
         [roles.CUSTOMER_SERVICE]),
        ("operator.grant_confirm", "bob", "backoffice.rolegrant", str(grant.pk), "PENDING", "CONFIRMED",
         [roles.CUSTOMER_SERVICE, roles.FINANCE_OFFICER]),
    ]


def test_an_administrator_cannot_confirm_their_own_proposal(admins):
    ann, _ = admins
    clerk = f.operator(roles.CUSTOMER_SERVICE)
    grant = grant_propose(actor=ann, operator_id=clerk.pk, role=roles.FINANCE_OFFICER)
    with pytest.raises(Forbidden) as refused:
        grant_confirm(actor=ann, grant_id=grant.pk)
    assert refused.value.code == "own_proposal"
    assert RoleGrant.objects.get(pk=grant.pk).status == "PENDING" and not fresh(clerk).has_perm(APPROVE)
    assert list(AuditLog.objects.values_list("action", flat=True)) == ["operator.grant_propose"]


def test_the_database_refuses_a_grant_confirmed_by_its_proposer(admins):
    from django.db import IntegrityError, transaction

    ann, _ = admins
    grant = grant_propose(actor=ann, operator_id=f.operator().pk, role=roles.FINANCE_OFFICER)
    with pytest.raises(IntegrityError), transaction.atomic():
        RoleGrant.objects.filter(pk=grant.pk).update(status="CONFIRMED", decided_by=ann)


def test_only_administrators_confirm_and_not_for_themselves(admins):
    ann, bob = admins
    grant = grant_propose(actor=ann, operator_id=f.operator().pk, role=roles.FINANCE_OFFICER)
    with pytest.raises(Forbidden):
        grant_confirm(actor=f.operator(roles.FINANCE_OFFICER), grant_id=grant.pk)
    # A new administrator's own grant waits for somebody else, too.
    carol = f.operator(roles.CUSTOMER_SERVICE)
    admin_grant = grant_propose(actor=ann, operator_id=carol.pk, role=roles.SUPER_ADMIN)
    assert not fresh(carol).has_perm("backoffice.manage_operators")
    grant_confirm(actor=bob, grant_id=admin_grant.pk)
    assert fresh(carol).has_perm("backoffice.manage_operators")


def test_cancel_a_proposal_and_it_never_takes_effect(admins, client):
    ann, bob = admins
    clerk = f.operator(roles.CUSTOMER_SERVICE)
    grant = grant_propose(actor=ann, operator_id=clerk.pk, role=roles.FINANCE_OFFICER)
    assert grant_cancel(actor=bob, grant_id=grant.pk).status == "CANCELLED"
    with pytest.raises(Conflict, match="already cancelled"):
        grant_confirm(actor=bob, grant_id=grant.pk)
    assert not fresh(clerk).has_perm(APPROVE)
    row = AuditLog.objects.get(action="operator.grant_cancel")
    assert (row.actor, row.before["status"], row.after["status"]) == (bob, "PENDING", "CANCELLED")


@pytest.mark.parametrize(("setup", "error", "code"), [
    ("twice", "already proposed", "duplicate"),
    ("held", "already holds", "unchanged"),
    ("inactive", "Activate the operator", "inactive"),
    ("self", "for yourself", "self_change"),
    ("plain", "needs no confirmation", "no_confirmation_needed"),
    ("unknown", "Unknown role", "unknown_role"),
    ("admin", "cannot both manage operators", "duty_conflict"),
])
def test_proposal_refusals_change_nothing(admins, setup, error, code):
    ann, bob = admins
    target, role = f.operator(roles.CUSTOMER_SERVICE), roles.FINANCE_OFFICER
    if setup == "twice":
        grant_propose(actor=ann, operator_id=target.pk, role=role)
    elif setup == "held":
        target = f.operator(roles.FINANCE_OFFICER)
    elif setup == "inactive":
        User.objects.filter(pk=target.pk).update(is_active=False)
    elif setup == "self":
        target = ann
    elif setup == "plain":
        role = roles.LOAN_REVIEWER
    elif setup == "unknown":
        role = "emperor"
    elif setup == "admin":
        target = bob  # an administrator may not also move money
    grants, audits = RoleGrant.objects.count(), AuditLog.objects.count()
    with pytest.raises(WanxinError, match=error) as refused:
        grant_propose(actor=ann, operator_id=target.pk, role=role)
    assert refused.value.code == code
    assert (RoleGrant.objects.count(), AuditLog.objects.count()) == (grants, audits)


def test_creating_an_operator_with_conflicting_duties_is_refused(admins):
    ann, _ = admins
    with pytest.raises(Conflict) as refused:
        operator_create(actor=ann, username="both", password=None,
                        role_names=[roles.SUPER_ADMIN, roles.FINANCE_OFFICER])
    assert refused.value.code == "duty_conflict"
    assert not User.objects.filter(username="both").exists() and AuditLog.objects.count() == 0


def test_confirm_rechecks_the_operator(admins):
    ann, bob = admins
    target = f.operator(roles.CUSTOMER_SERVICE)
    grant = grant_propose(actor=ann, operator_id=target.pk, role=roles.FINANCE_OFFICER)
    User.objects.filter(pk=target.pk).update(is_active=False)
    with pytest.raises(Conflict, match="deactivated"):
        grant_confirm(actor=bob, grant_id=grant.pk)
    assert RoleGrant.objects.get(pk=grant.pk).status == "PENDING"


def test_roles_form_keeps_or_cancels_a_pending_role(admins):
    ann, _ = admins
    target = f.operator(roles.CUSTOMER_SERVICE)
    operator_roles_set(actor=ann, operator_id=target.pk, role_names=[roles.CUSTOMER_SERVICE, roles.FINANCE_OFFICER])
    grant = RoleGrant.objects.get(operator=target)
    # Saving again with the pending role still ticked changes nothing.
    with pytest.raises(Conflict, match="already the operator's roles"):
        operator_roles_set(actor=ann, operator_id=target.pk,
                           role_names=[roles.CUSTOMER_SERVICE, roles.FINANCE_OFFICER])
    # Unticking it cancels the proposal.
    operator_roles_set(actor=ann, operator_id=target.pk, role_names=[roles.CUSTOMER_SERVICE, roles.RISK_OFFICER])
    assert RoleGrant.objects.get(pk=grant.pk).status == "CANCELLED"
    assert sorted(fresh(target).groups.values_list("name", flat=True)) == [roles.CUSTOMER_SERVICE,
                                                                          roles.RISK_OFFICER]
    assert list(AuditLog.objects.order_by("id").values_list("action", flat=True)) == [
        "operator.grant_propose", "operator.roles_set", "operator.grant_cancel"]


def test_the_system_grants_at_once_and_records_it():
    call_command("create_operator", "cashier", "--role", roles.FINANCE_OFFICER, stdout=io.StringIO())
    cashier = User.objects.get(username="cashier")
    assert cashier.has_perm(APPROVE) and cashier.created_by is None
    grant = RoleGrant.objects.get(operator=cashier)
    assert (grant.status, grant.proposed_by, grant.decided_by) == ("CONFIRMED", None, None)
    assert list(AuditLog.objects.order_by("id").values_list("action", "actor")) == [
        ("operator.create", None), ("operator.grant_confirm", None)]


def test_grant_pages(admins, client):
    ann, bob = admins
    clerk = f.operator(roles.CUSTOMER_SERVICE, username="clerk")
    client.force_login(ann)
    response = client.post(f"/backoffice/operators/{clerk.pk}/roles",
                           {f"op{clerk.pk}-roles": [roles.CUSTOMER_SERVICE, roles.FINANCE_OFFICER]}, follow=True)
    page = response.content.decode()
    assert "Awaiting a second administrator&#x27;s confirmation: Finance officer." in page
    assert "Roles awaiting a second administrator" in page
    grant = RoleGrant.objects.get(operator=clerk)
    assert ("Roles awaiting a second administrator", 1, "/backoffice/operators/") in client.get(
        "/backoffice/").context["tiles"]
    page = client.get(f"/backoffice/operators/grants/{grant.pk}").content.decode()
    assert "Give clerk the role Finance officer?" in page and "Approve loan disbursement" in page
    assert "Confirm the grant" not in page and "another administrator must confirm it" in page
    response = client.post(f"/backoffice/operators/grants/{grant.pk}/confirm", follow=True)
    assert "You proposed this grant; another administrator must confirm it." in response.content.decode()

    client.force_login(bob)
    assert "Confirm the grant" in client.get(f"/backoffice/operators/grants/{grant.pk}").content.decode()
    response = client.post(f"/backoffice/operators/grants/{grant.pk}/confirm", follow=True)
    assert "Confirmed: clerk now holds the role Finance officer." in response.content.decode()
    assert "No role is awaiting confirmation." in response.content.decode()
    assert client.get("/backoffice/operators/grants/999999").status_code == 404
    assert client.post("/backoffice/operators/grants/999999/confirm").status_code == 404


def test_grant_api(admins, client):
    ann, bob = admins
    clerk = f.operator(roles.CUSTOMER_SERVICE, username="clerk")
    client.force_login(ann)
    response = client.post(f"/api/v1/backoffice/operators/{clerk.pk}/grants", {"role": roles.FINANCE_OFFICER},
                           content_type="application/json")
    assert response.status_code == 201
    body = response.json()
    assert (body["operator"], body["role"], body["status"], body["status_label"], body["proposed_by"]) == (
        "clerk", roles.FINANCE_OFFICER, "PENDING", "Awaiting confirmation", "ann")
    listed = client.get("/api/v1/backoffice/grants").json()
    assert [g["id"] for g in listed] == [body["id"]]
    operators = {o["username"]: o for o in client.get("/api/v1/backoffice/operators").json()}
    assert operators["clerk"]["pending_roles"] == [roles.FINANCE_OFFICER]
    refused = client.post(f"/api/v1/backoffice/grants/{body['id']}/confirm", content_type="application/json")
    assert refused.status_code == 403 and refused.json()["code"] == "own_proposal"
    bad = client.post(f"/api/v1/backoffice/operators/{clerk.pk}/grants", {"role": "x" * 81},
                      content_type="application/json")
    assert bad.status_code in (400, 422)
    assert client.post("/api/v1/backoffice/grants/999999/confirm", content_type="application/json").status_code == 404

    client.force_login(bob)
    confirmed = client.post(f"/api/v1/backoffice/grants/{body['id']}/confirm", content_type="application/json")
    assert confirmed.status_code == 200 and confirmed.json()["decided_by"] == "bob"
    assert client.get("/api/v1/backoffice/grants").json() == []
    assert [g["status"] for g in client.get("/api/v1/backoffice/grants?status=CONFIRMED").json()] == ["CONFIRMED"]
    assert client.get("/api/v1/backoffice/grants?status=NOPE").status_code in (400, 422)


def test_checker_dependence():
    maker = f.operator(roles.LOAN_REVIEWER)
    independent = f.operator(roles.FINANCE_OFFICER)
    assert duties.checker_dependence(maker_id=maker.pk, checker=independent, permission="approve_disbursement") is None
    assert duties.checker_dependence(maker_id=None, checker=independent, permission="approve_disbursement") is None
    assert duties.checker_dependence(maker_id=maker.pk, checker=maker, permission="approve_disbursement") == "four_eyes"
    User.objects.filter(pk=independent.pk).update(created_by=maker)
    assert duties.checker_dependence(maker_id=maker.pk, checker=fresh(independent),
                                     permission="settle_allocation") == "created_by_maker"
    with pytest.raises(ValueError):
        duties.checker_dependence(maker_id=maker.pk, checker=independent, permission="review_loans")


def test_django_admin_cannot_edit_roles_or_grants(client):
    from django.contrib.auth.models import Group

    f.ensure_roles()
    client.force_login(User.objects.create_superuser(username="root", password=f.PASSWORD))
    group = Group.objects.get(name=roles.SUPER_ADMIN)
    before = set(group.permissions.values_list("codename", flat=True))
    response = client.post(f"/backoffice/admin/auth/group/{group.pk}/change/",
                           {"name": roles.SUPER_ADMIN, "permissions": list(
                               Group.objects.get(name=roles.FINANCE_OFFICER).permissions.values_list("pk", flat=True))})
    assert response.status_code == 403
    assert set(group.permissions.values_list("codename", flat=True)) == before
    assert client.get("/backoffice/admin/audit/rolegrant/add/").status_code == 403
