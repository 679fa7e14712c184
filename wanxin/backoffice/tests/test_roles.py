"""THE ROLE TEST: every back-office page, action and API operation, tried as every role,
as an operator without a role, as a customer, as a Django superuser who is not an
operator, and anonymously.

Allowed requests work (2xx/3xx) and, for actions, leave exactly one audit row naming the
action and the actor. Refused ones get 403 (operators lacking the permission) or the
back-office login (pages) / 401 (API) for everyone else, and change nothing.

That every page and operation is guarded as it declares, for every role, is
``tests/test_role_matrix.py``'s (it finds them itself); add a ``Route`` here for an action
whose audit row and untouched data are worth checking too.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import pytest
from django.contrib.auth.models import Group

from wanxin.accounts.models import User
from wanxin.audit import roles
from wanxin.audit.models import AuditLog, RoleGrant
from wanxin.backoffice.services import grant_propose
from wanxin.backoffice.tests import factories as f
from wanxin.kyc.models import KycApplication, KycDocument, KycReview
from wanxin.kyc.tests.helpers import submitted
from wanxin.risk import domain as risk_domain
from wanxin.risk import services as risk
from wanxin.risk.models import BlacklistEntry, RiskRule, RuleCheck, ScoreBand

ANY_OPERATOR = "any operator"
PUBLIC = "public"


@dataclass(frozen=True)
class Route:
    url: str  # formatted with the world's ids: {application} {document} {operator} {dormant} {customer}
    method: str
    permission: str  # a back-office permission label, ANY_OPERATOR or PUBLIC
    audit: str | None = None  # the audit action an allowed request records
    data: Callable[[dict], dict] | None = None
    api: bool = False

    @property
    def id(self) -> str:
        return f"{self.method} {self.url}"


def _roles_form(world: dict) -> dict:
    return {f"op{world['operator']}-roles": [roles.RISK_OFFICER]}


def _password(world: dict) -> dict:
    return {"old_password": f.PASSWORD, "new_password": "a-new-strong-pass-77",
            "new_password_again": "a-new-strong-pass-77"}


def _new_operator(world: dict) -> dict:
    return {"username": "newcomer", "roles": [roles.CUSTOMER_SERVICE], "password": ""}


P = roles.perm
ROUTES: list[Route] = [
    # -- back office: session, dashboard
    Route("/backoffice/login", "GET", PUBLIC),
    Route("/backoffice/", "GET", ANY_OPERATOR),
    Route("/backoffice/logout", "GET", ANY_OPERATOR),
    Route("/backoffice/logout", "POST", ANY_OPERATOR, audit="auth.logout"),
    Route("/backoffice/password", "GET", ANY_OPERATOR),
    Route("/backoffice/password", "POST", ANY_OPERATOR, audit="operator.password_change", data=_password),
    # -- operators
    Route("/backoffice/operators/", "GET", P("manage_operators")),
    Route("/backoffice/operators/new", "GET", P("manage_operators")),
    Route("/backoffice/operators/new", "POST", P("manage_operators"), audit="operator.create", data=_new_operator),
    Route("/backoffice/operators/{operator}/roles", "POST", P("manage_operators"), audit="operator.roles_set",
          data=_roles_form),
    Route("/backoffice/operators/{operator}/deactivate", "POST", P("manage_operators"),
          audit="operator.deactivate"),
    Route("/backoffice/operators/{dormant}/activate", "POST", P("manage_operators"), audit="operator.activate"),
    Route("/backoffice/operators/grants/{grant}", "GET", P("manage_operators")),
    Route("/backoffice/operators/grants/{grant}/confirm", "POST", P("manage_operators"),
          audit="operator.grant_confirm"),
    Route("/backoffice/operators/grants/{grant}/cancel", "POST", P("manage_operators"), audit="operator.grant_cancel"),
    # -- audit log, customers
    Route("/backoffice/audit/", "GET", P("view_audit_log")),
    Route("/backoffice/customers/", "GET", P("view_customers")),
    Route("/backoffice/customers/{customer}", "GET", P("view_customers")),
    # -- KYC review
    Route("/backoffice/kyc/", "GET", P("review_kyc")),
    Route("/backoffice/kyc/{application}", "GET", P("review_kyc")),
    Route("/backoffice/kyc/{application}/approve", "POST", P("review_kyc"), audit="kyc.approve",
          data=lambda w: {"reason": ""}),
    Route("/backoffice/kyc/{application}/reject", "POST", P("review_kyc"), audit="kyc.reject",
          data=lambda w: {"reason": "The ID card photo is blurred"}),
    Route("/backoffice/kyc/documents/{document}", "GET", P("review_kyc"), audit="kyc.document_view"),
    # -- risk control
    Route("/backoffice/risk/", "GET", P("manage_risk_rules")),
    Route("/backoffice/risk/rules/new/{key}", "GET", P("manage_risk_rules")),
    Route("/backoffice/risk/rules/new/{key}", "POST", P("manage_risk_rules"), audit="risk.rule.create",
          data=lambda w: {"action": "BLOCK", "count": "10"}),
    Route("/backoffice/risk/rules/{scheduled}", "GET", P("manage_risk_rules")),
    Route("/backoffice/risk/rules/{scheduled}", "POST", P("manage_risk_rules"), audit="risk.rule.change",
          data=lambda w: {"action": "WARN", "min_age": "21", "max_age": "70", "effective_from": "2999-01-01T00:00"}),
    Route("/backoffice/risk/rules/{rule}/expire", "POST", P("manage_risk_rules"), audit="risk.rule.expire"),
    Route("/backoffice/risk/blacklist/", "GET", P("manage_risk_rules")),
    Route("/backoffice/risk/blacklist/", "POST", P("manage_risk_rules"), audit="risk.blacklist.add",
          data=lambda w: {"kind": "MOBILE", "value": "13700000009", "action": "BLOCK"}),
    Route("/backoffice/risk/blacklist/{entry}/expire", "POST", P("manage_risk_rules"), audit="risk.blacklist.expire"),
    Route("/backoffice/risk/score/", "GET", P("manage_risk_rules")),
    Route("/backoffice/risk/score/", "POST", P("manage_risk_rules"), audit="risk.score.save",
          data=lambda w: {"factor": "AGE", "lower": "30", "points": "7"}),
    Route("/backoffice/risk/score/{band}/delete", "POST", P("manage_risk_rules"), audit="risk.score.delete"),
    Route("/backoffice/risk/checks/", "GET", P("manage_risk_rules")),
    # -- JSON API
    Route("/api/v1/backoffice/me", "GET", ANY_OPERATOR, api=True),
    Route("/api/v1/backoffice/audit", "GET", P("view_audit_log"), api=True),
    Route("/api/v1/backoffice/operators", "GET", P("manage_operators"), api=True),
    Route("/api/v1/backoffice/operators/{operator}/grants", "POST", P("manage_operators"), api=True,
          audit="operator.grant_propose", data=lambda w: {"role": roles.FINANCE_OFFICER}),
    Route("/api/v1/backoffice/grants", "GET", P("manage_operators"), api=True),
    Route("/api/v1/backoffice/grants/{grant}/confirm", "POST", P("manage_operators"), api=True,
          audit="operator.grant_confirm"),
    Route("/api/v1/backoffice/grants/{grant}/cancel", "POST", P("manage_operators"), api=True,
          audit="operator.grant_cancel"),
    Route("/api/v1/backoffice/kyc/applications", "GET", P("review_kyc"), api=True),
    Route("/api/v1/backoffice/kyc/applications/{application}", "GET", P("review_kyc"), api=True),
    Route("/api/v1/backoffice/kyc/applications/{application}/approve", "POST", P("review_kyc"), api=True,
          audit="kyc.approve", data=lambda w: {"reason": ""}),
    Route("/api/v1/backoffice/kyc/applications/{application}/reject", "POST", P("review_kyc"), api=True,
          audit="kyc.reject", data=lambda w: {"reason": "Income proof is missing a stamp"}),
    Route("/api/v1/backoffice/kyc/documents/{document}", "GET", P("review_kyc"), api=True,
          audit="kyc.document_view"),
]

PRINCIPALS = ["anonymous", "customer", "superuser, not an operator", "operator without a role", *roles.ROLES]


@dataclass
class World:
    ids: dict[str, Any] = field(default_factory=dict)


@pytest.fixture
def world(db) -> dict:
    customer = f.customer()
    application = submitted(customer)
    target = f.operator(roles.CUSTOMER_SERVICE)
    dormant = f.operator(roles.FINANCE_OFFICER)
    User.objects.filter(pk=dormant.pk).update(is_active=False)
    # A finance role proposed by another administrator, for every principal to try to confirm.
    grant = grant_propose(actor=f.operator(roles.SUPER_ADMIN), operator_id=f.operator(roles.CUSTOMER_SERVICE).pk,
                          role=roles.FINANCE_OFFICER)
    officer = f.operator(roles.RISK_OFFICER)
    rule = risk.rule_create(operator=officer, data=risk.RuleInput(
        key="CONCURRENT_LOANS", scope="", action="BLOCK", params=risk_domain.Params(count=3)))
    scheduled = risk.rule_create(operator=officer, data=risk.RuleInput(
        key="AGE", scope="", action="BLOCK", params=risk_domain.Params(min_age=20, max_age=70),
        effective_from=dt.datetime(2999, 1, 1, tzinfo=dt.UTC)))
    entry = risk.blacklist_add(operator=officer, kind="MOBILE", value="13700000001")
    return {"customer": customer.pk, "application": application.pk, "operator": target.pk, "dormant": dormant.pk,
            "grant": grant.pk, "rule": rule.pk, "scheduled": scheduled.pk, "entry": entry.pk, "key": "MIN_SCORE",
            "band": ScoreBand.objects.order_by("id").first().pk,
            "document": KycDocument.objects.filter(application=application).order_by("id").first().pk}


def principal(name: str) -> User | None:
    if name == "anonymous":
        return None
    if name == "customer":
        return f.customer()
    if name == "superuser, not an operator":
        return User.objects.create_superuser(username="root", password=f.PASSWORD)
    if name == "operator without a role":
        return f.operator()
    return f.operator(name)


def allowed(route: Route, name: str) -> bool:
    if route.permission == PUBLIC:
        return True
    if name not in roles.ROLES and name != "operator without a role":
        return False
    if route.permission == ANY_OPERATOR:
        return True
    return name in roles.ROLES and route.permission.split(".", 1)[1] in roles.ROLES[name]


def snapshot() -> dict:
    """Everything an action could change."""
    return {
        "applications": list(KycApplication.objects.order_by("id").values()),
        "documents": list(KycDocument.objects.order_by("id").values()),
        "reviews": KycReview.objects.count(),
        "users": list(User.objects.order_by("id").values("id", "username", "is_active", "password")),
        "memberships": sorted(Group.objects.values_list("name", "user")),
        "audit": AuditLog.objects.count(),
        "grants": list(RoleGrant.objects.order_by("id").values()),
        "risk": (list(RiskRule.objects.order_by("id").values()), list(BlacklistEntry.objects.order_by("id").values()),
                 list(ScoreBand.objects.order_by("id").values()), RuleCheck.objects.count()),
    }


def call(client, route: Route, world: dict):
    url = route.url.format(**world)
    data = route.data(world) if route.data else {}
    if route.method == "GET":
        return client.get(url)
    if route.api:
        return client.post(url, data, content_type="application/json")
    return client.post(url, data)


@pytest.mark.parametrize("name", PRINCIPALS)
@pytest.mark.parametrize("route", ROUTES, ids=lambda r: r.id)
def test_route_as_principal(client, world, route: Route, name: str):
    user = principal(name)
    if user is not None:
        client.force_login(user)
    before = snapshot()
    first_audit = AuditLog.objects.order_by("-id").values_list("id", flat=True).first() or 0

    response = call(client, route, world)

    new_audit = list(AuditLog.objects.filter(id__gt=first_audit))
    if allowed(route, name):
        assert 200 <= response.status_code < 400, (response.status_code, response.content[:300])
        if response.status_code in (301, 302):
            assert "/login" not in response["Location"] or route.audit == "auth.logout", response["Location"]
        if route.audit:
            assert [(a.action, a.actor_id) for a in new_audit] == [(route.audit, user.pk)]
            assert new_audit[0].ip == "127.0.0.1"
        else:
            assert new_audit == []
        return

    operator = name in roles.ROLES or name == "operator without a role"
    if route.api:
        assert response.status_code == (403 if operator else 401), response.content[:300]
    elif operator:
        assert response.status_code == 403
        assert route.permission.encode() in response.content  # the page names what is missing
    else:
        assert response.status_code == 302
        assert response["Location"].startswith("/backoffice/login?next=")
    assert new_audit == []
    assert snapshot() == before


def test_roles_hold_exactly_the_permissions_of_the_table(db):
    from wanxin.backoffice.services import roles_sync

    roles_sync()
    groups = {g.name: {p.codename for p in g.permissions.all()} for g in Group.objects.filter(name__in=roles.ROLES)}
    assert groups == {name: set(codenames) for name, codenames in roles.ROLES.items()}


@pytest.mark.parametrize("role", list(roles.ROLES))
def test_no_role_both_manages_operators_and_moves_money(role):
    """Separation of duties, for every role of the table: the role that manages operators
    and roles holds no money permission (nor the loan maker's), and a money role never
    manages operators."""
    held = roles.ROLES[role]
    if "manage_operators" in held:
        assert not held & roles.MONEY_PERMISSIONS, held & roles.MONEY_PERMISSIONS
        assert not held & {"review_loans", "review_allocations"}
    assert not roles.duty_conflict([role])
    assert roles.role_needs_confirmation(role) == bool(held & (roles.MONEY_PERMISSIONS | {"manage_operators"}))


def test_money_permissions_are_declared():
    assert roles.MONEY_PERMISSIONS <= set(roles.PERMISSIONS)
    assert {"approve_disbursement", "settle_allocation", "close_reconciliation_day"} <= roles.MONEY_PERMISSIONS
    assert roles.duty_conflict([roles.SUPER_ADMIN, roles.FINANCE_OFFICER])
