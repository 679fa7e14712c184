"""Operator management (super admin), the create_operator command and the demo seed."""

from __future__ import annotations

import io

import pytest
from django.contrib.auth.models import Group
from django.core.management import CommandError, call_command

from wanxin.accounts.models import User
from wanxin.audit import roles
from wanxin.audit.guards import Forbidden
from wanxin.audit.models import AuditLog, RoleGrant
from wanxin.backoffice.services import (
    operator_create,
    operator_deactivate,
    operator_roles_set,
    roles_sync,
    seed_backoffice_demo,
)
from wanxin.core.errors import Conflict

from . import factories as f

pytestmark = pytest.mark.django_db


@pytest.fixture
def admin(client):
    user = f.operator(roles.SUPER_ADMIN, username="boss")
    client.force_login(user)
    return user


def role_names(user: User) -> list[str]:
    return sorted(User.objects.get(pk=user.pk).groups.values_list("name", flat=True))


def messages_of(response) -> list[str]:
    return [str(m) for m in response.context["messages"]]


def test_create_an_operator_with_a_generated_password(client, admin):
    response = client.post("/backoffice/operators/new", {
        "username": "lin", "full_name": "Lin Wei", "email": "lin@example.com", "password": "",
        "roles": [roles.LOAN_REVIEWER, roles.RISK_OFFICER]}, follow=True)
    [message] = messages_of(response)
    assert message.startswith("Operator lin created. Initial password (shown once): ")
    password = message.rsplit(" ", 1)[1]
    lin = User.objects.get(username="lin")
    assert (lin.is_operator, lin.is_active, lin.is_staff, lin.is_superuser, lin.first_name, lin.email) == (
        True, True, False, False, "Lin Wei", "lin@example.com")
    assert lin.check_password(password) and role_names(lin) == [roles.LOAN_REVIEWER, roles.RISK_OFFICER]
    assert lin.has_perm("backoffice.review_kyc") and lin.has_perm("backoffice.manage_risk_rules")
    assert not lin.has_perm("backoffice.manage_operators")
    audit = AuditLog.objects.get()
    assert (audit.actor, audit.action, audit.target_type, audit.target_id, audit.before, audit.after) == (
        admin, "operator.create", "accounts.user", str(lin.pk), None,
        {"username": "lin", "is_active": True, "roles": [roles.LOAN_REVIEWER, roles.RISK_OFFICER], "pending_roles": []})
    assert lin.created_by == admin
    assert password not in str(audit.after)


@pytest.mark.parametrize(("data", "error"), [
    ({"username": "boss"}, "This username is taken."),
    ({"username": "BOSS"}, "This username is taken."),
    ({"password": "12345678"}, "This password is too common."),
    ({"roles": []}, "Choose at least one role."),
    ({"roles": ["emperor"]}, "Select a valid choice. emperor is not one of the available choices."),
])
def test_bad_operator_creation_changes_nothing(client, admin, data, error):
    form = {"username": "newbie", "password": "", "roles": [roles.CUSTOMER_SERVICE], **data}
    users = User.objects.count()
    response = client.post("/backoffice/operators/new", form)
    assert response.status_code == 200 and error in response.content.decode()
    assert User.objects.count() == users and AuditLog.objects.count() == 0


def test_set_roles(client, admin):
    target = f.operator(roles.CUSTOMER_SERVICE)
    response = client.post(f"/backoffice/operators/{target.pk}/roles",
                           {f"op{target.pk}-roles": [roles.RISK_OFFICER, roles.CUSTOMER_SERVICE]}, follow=True)
    assert messages_of(response) == [f"Operator {target.username} updated."]
    assert role_names(target) == [roles.CUSTOMER_SERVICE, roles.RISK_OFFICER]
    audit = AuditLog.objects.get()
    assert (audit.action, audit.before, audit.after) == ("operator.roles_set", {
        "username": target.username, "is_active": True, "roles": [roles.CUSTOMER_SERVICE], "pending_roles": []}, {
        "username": target.username, "is_active": True, "roles": [roles.CUSTOMER_SERVICE, roles.RISK_OFFICER],
        "pending_roles": []})


def test_a_money_role_set_on_the_page_waits_for_confirmation(client, admin):
    target = f.operator(roles.CUSTOMER_SERVICE)
    response = client.post(f"/backoffice/operators/{target.pk}/roles",
                           {f"op{target.pk}-roles": [roles.FINANCE_OFFICER, roles.CUSTOMER_SERVICE]}, follow=True)
    assert messages_of(response) == [f"Operator {target.username} updated. Awaiting a second administrator's "
                                     "confirmation: Finance officer."]
    assert role_names(target) == [roles.CUSTOMER_SERVICE]
    assert not User.objects.get(pk=target.pk).has_perm("backoffice.approve_disbursement")
    assert list(AuditLog.objects.values_list("action", flat=True)) == ["operator.grant_propose"]
    assert "Finance officer: awaiting confirmation" in response.content.decode()


def test_role_refusals_change_nothing(client, admin):
    target = f.operator(roles.CUSTOMER_SERVICE)
    customer = f.customer()
    # own roles
    response = client.post(f"/backoffice/operators/{admin.pk}/roles", {f"op{admin.pk}-roles": [roles.CUSTOMER_SERVICE]},
                           follow=True)
    assert messages_of(response) == ["You cannot change your own roles; ask another super admin."]
    # no change
    response = client.post(f"/backoffice/operators/{target.pk}/roles",
                           {f"op{target.pk}-roles": [roles.CUSTOMER_SERVICE]}, follow=True)
    assert messages_of(response) == ["These are already the operator's roles."]
    # customers are not operators
    assert client.post(f"/backoffice/operators/{customer.pk}/roles",
                       {f"op{customer.pk}-roles": [roles.SUPER_ADMIN]}).status_code == 404
    assert client.post(f"/backoffice/operators/{customer.pk}/deactivate").status_code == 404
    assert role_names(admin) == [roles.SUPER_ADMIN] and role_names(target) == [roles.CUSTOMER_SERVICE]
    assert role_names(customer) == [] and User.objects.get(pk=customer.pk).is_active
    assert AuditLog.objects.count() == 0


def test_deactivate_and_activate(client, admin):
    target = f.operator(roles.CUSTOMER_SERVICE)
    response = client.post(f"/backoffice/operators/{target.pk}/deactivate", follow=True)
    assert messages_of(response) == [f"Operator {target.username} updated."]
    assert not User.objects.get(pk=target.pk).is_active
    response = client.post(f"/backoffice/operators/{target.pk}/deactivate", follow=True)
    assert messages_of(response) == ["This operator is already deactivated."]
    response = client.post(f"/backoffice/operators/{admin.pk}/deactivate", follow=True)
    assert messages_of(response) == ["You cannot deactivate yourself."]
    assert User.objects.get(pk=admin.pk).is_active
    client.post(f"/backoffice/operators/{target.pk}/activate")
    assert User.objects.get(pk=target.pk).is_active
    assert list(AuditLog.objects.order_by("id").values_list("action", "before__is_active", "after__is_active")) == [
        ("operator.deactivate", True, False), ("operator.activate", False, True)]


def test_operator_list_page_and_api(client, admin):
    f.operator(roles.CUSTOMER_SERVICE, username="cs1")
    page = client.get("/backoffice/operators/").content.decode()
    assert "cs1" in page and "boss" in page
    body = client.get("/api/v1/backoffice/operators").json()
    assert [(o["username"], o["roles"]) for o in body] == [("boss", [roles.SUPER_ADMIN]),
                                                          ("cs1", [roles.CUSTOMER_SERVICE])]


def test_services_check_the_actor_too():
    clerk = f.operator(roles.CUSTOMER_SERVICE)
    with pytest.raises(Forbidden):
        operator_create(actor=clerk, username="sneaky", password=None, role_names=[roles.SUPER_ADMIN])
    with pytest.raises(Forbidden):
        operator_roles_set(actor=clerk, operator_id=clerk.pk, role_names=[roles.SUPER_ADMIN])
    with pytest.raises(Forbidden):
        operator_deactivate(actor=clerk, operator_id=clerk.pk)
    assert not User.objects.filter(username="sneaky").exists() and role_names(clerk) == [roles.CUSTOMER_SERVICE]


def test_create_operator_command():
    out = io.StringIO()
    call_command("create_operator", "ops1", "--role", roles.LOAN_REVIEWER, "--role", roles.RISK_OFFICER,
                 stdout=out)
    lines = out.getvalue().splitlines()
    assert lines[0] == "Operator ops1 created with roles: loan reviewer, risk officer."
    password = lines[1].removeprefix("Initial password (shown once): ")
    user = User.objects.get(username="ops1")
    assert user.is_operator and user.check_password(password)
    assert role_names(user) == [roles.LOAN_REVIEWER, roles.RISK_OFFICER]
    audit = AuditLog.objects.get()
    assert (audit.actor, audit.actor_username, audit.action) == (None, "", "operator.create")
    with pytest.raises(CommandError, match=r"This username is taken\."):
        call_command("create_operator", "ops1", "--role", roles.LOAN_REVIEWER, stdout=io.StringIO())
    with pytest.raises(CommandError):
        call_command("create_operator", "ops2", "--role", "emperor", stdout=io.StringIO())


def test_create_operator_command_with_password():
    out = io.StringIO()
    call_command("create_operator", "ops3", "--role", roles.SUPER_ADMIN, "--password", "Secret-pass-2026",
                 stdout=out)
    assert "Initial password" not in out.getvalue()
    assert User.objects.get(username="ops3").check_password("Secret-pass-2026")


def test_seed_backoffice_demo_is_idempotent():
    out = io.StringIO()
    rows = seed_backoffice_demo(stdout=out)
    assert rows == [(u, r, roles.DEMO_PASSWORD) for u, r in roles.DEMO_OPERATORS]
    assert sorted({r for _, r, _ in rows}) == sorted(roles.ROLES)
    for username, role in roles.DEMO_OPERATORS:
        user = User.objects.get(username=username)
        assert user.is_operator and user.check_password(roles.DEMO_PASSWORD) and role_names(user) == [role]
    assert out.getvalue().splitlines() == [
        "Back-office operators (log in at /backoffice/login):",
        "  superadmin   wanxin-demo-2026   super admin",
        "  superadmin2  wanxin-demo-2026   super admin",
        "  reviewer     wanxin-demo-2026   loan reviewer",
        "  risk         wanxin-demo-2026   risk officer",
        "  finance      wanxin-demo-2026   finance officer",
        "  allocation   wanxin-demo-2026   allocation operator",
        "  service      wanxin-demo-2026   customer service",
    ]
    # One creation per operator, and a grant confirmed by the system for each role that
    # otherwise waits for a second administrator (the super admins', the finance officer's).
    guarded = [u for u, r in roles.DEMO_OPERATORS if roles.role_needs_confirmation(r)]
    assert guarded == ["superadmin", "superadmin2", "finance"]
    audits = AuditLog.objects.count()
    assert audits == len(roles.DEMO_OPERATORS) + len(guarded)
    assert sorted(RoleGrant.objects.filter(status="CONFIRMED", proposed_by=None, decided_by=None)
                  .values_list("operator__username", flat=True)) == sorted(guarded)
    assert User.objects.get(username="finance").has_perm("backoffice.approve_disbursement")
    seed_backoffice_demo()
    assert User.objects.filter(is_operator=True).count() == len(roles.DEMO_OPERATORS)
    assert AuditLog.objects.count() == audits


def test_roles_sync_repairs_groups():
    roles_sync()
    group = Group.objects.get(name=roles.CUSTOMER_SERVICE)
    group.permissions.clear()
    Group.objects.get(name=roles.RISK_OFFICER).delete()
    roles_sync()
    assert set(Group.objects.get(name=roles.CUSTOMER_SERVICE).permissions.values_list("codename", flat=True)) == {
        "view_customers"}
    assert set(Group.objects.get(name=roles.RISK_OFFICER).permissions.values_list("codename", flat=True)) == set(
        roles.ROLES[roles.RISK_OFFICER])


def test_self_change_services_refuse():
    boss = f.operator(roles.SUPER_ADMIN)
    with pytest.raises(Conflict):
        operator_deactivate(actor=boss, operator_id=boss.pk)
