"""THE ROLE MATRIX (issue 13, item 4): every operator page and API operation, found by walking
the URL resolver and the API's operations (so a new one is covered without editing this file),
tried as every demo role, as an operator without a role, as a customer and anonymously.

What an endpoint needs is what its code declares (``wanxin.backoffice.declared``: the page
decorators, the operations' ``auth=``); who holds what is ``wanxin.audit.roles.ROLES``.
Exactly the principals the two allow succeed (neither 401/403 nor sent to a login page);
every other one is refused: operators lacking the permission with 403, everyone else with the
login page (pages) or 401 (API). Pages get a GET and, where they take one, a POST of an empty
form (harmless invalid data: nothing is found or saved); object ids point at nothing.

A page that declares nothing fails the test unless it is in one of the allow-lists below,
with the reason it needs no operator permission. The finer checks (an allowed action leaves
one audit row, a refused one changes nothing) are ``wanxin/backoffice/tests/test_roles.py``'s.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import pytest
from django.conf import settings
from django.contrib.sessions.models import Session
from django.test import Client, override_settings
from django.urls import URLPattern, URLResolver, get_resolver, resolve, reverse
from django.urls.resolvers import RoutePattern
from ninja.utils import normalize_path

from wanxin.accounts.models import User
from wanxin.audit import roles
from wanxin.backoffice.declared import CUSTOMER, Need, operation_need, page_need
from wanxin.backoffice.tests import factories as f

pytestmark = pytest.mark.django_db

# Pages that need no login: the public site, logins and registration, signed bank callbacks.
PUBLIC_PAGES = {
    "", "health", "favicon.ico", "i18n/setlang/", "calculator", "loans/", "loans/<int:project_id>",
    "allocation/", "allocation/products/<int:product_id>", "accounts/register", "accounts/login",
    "accounts/login/sms", "accounts/password-reset", "accounts/sms-code", "accounts/logout",
    "backoffice/login",
    "disclosure",  # 信息披露: public by law, platform totals only (no personal data)
    "api/v1/depository/notify",  # the bank's notifications: signature-checked, no session
    "dev/sms",  # the development SMS outbox: 404 unless settings.DEBUG
}
# Pages that answer only the customer who owns the bank request (404 to anyone else; tested
# in wanxin/depository/tests/test_handoff.py).
OWNER_CHECKED_PAGES = {"depository/gateway/<str:request_no>", "depository/callback"}
# Customers' own pages: tried here too, as a customer (allowed), anonymously and as an operator.
CUSTOMER_PAGES = {
    "accounts/", "funds/", "funds/account/open", "funds/recharge", "funds/withdraw", "funds/withdraw/quote",
    "funds/go/<str:request_no>", "funds/back", "funds/records", "funds/records.csv", "funds/records/<int:pk>",
    "funds/statistics", "kyc/", "kyc/declare", "kyc/documents", "kyc/documents/<int:document_id>",
    "kyc/documents/<int:document_id>/remove", "kyc/submit", "loans/<int:project_id>/invest", "loans/apply",
    "loans/mine", "loans/tenders/<int:tender_id>/status", "repayments/", "repayments/plans/<int:plan_id>/repay", "repayments/projects/<int:project_id>/prepay",
    "repayments/portfolio", "allocation/apply", "allocation/mine", "allocation/mine/<int:allocation_id>",
    "allocation/mine/<int:allocation_id>/risk-fund", "allocation/mine/<int:allocation_id>/sub-account",
    "allocation/mine/<int:allocation_id>/terminate", "allocation/mine/<int:allocation_id>/requests",
    "allocation/mine/<int:allocation_id>/auto-renew",
}
# Whole sites that are not the platform's operator console: the simulated bank (its own pages
# and its staff's console) and Django's admin (staff users only; see the last test).
OTHER_SITES = ("bank/", "backoffice/admin/")
API_PREFIX = "api/v1/"  # read from the API's own operations, below
PUBLIC_OPERATIONS = {
    "GET /api/v1/health", "POST /api/v1/accounts/sms-code", "POST /api/v1/accounts/register",
    "POST /api/v1/accounts/login", "POST /api/v1/accounts/login-sms", "POST /api/v1/accounts/password-reset",
    "GET /api/v1/calculator", "GET /api/v1/loans/projects", "GET /api/v1/loans/projects/{project_id}",
    "GET /api/v1/allocation/products", "GET /api/v1/allocation/calendar", "GET /api/v1/allocation/quote",
}

NOTHING = "999999999"  # an id no object has
TEXT_SAMPLES = {"date": "2000-01-03", "key": "AGE", "kind": "tender"}

# The demo operators (one per role) and the principals who are not.
DEMO = {name: role for name, role in roles.DEMO_OPERATORS if not name[-1].isdigit()}
ANONYMOUS, CUSTOMER_USER, NO_ROLE = "anonymous", "customer", "operator without a role"
PRINCIPALS = [*DEMO, NO_ROLE, CUSTOMER_USER, ANONYMOUS]


@dataclass(frozen=True)
class Endpoint:
    route: str  # as written in the code: a URL pattern, or "METHOD /api/v1/…{param}"
    url: str  # the route with harmless values
    methods: tuple[str, ...]
    need: Need
    api: bool = False
    view: object = None  # a page's view, to check the sample URL reaches it

    def __str__(self) -> str:
        return self.route


def _sample(name: str, converter: str = "") -> str:
    if converter == "int":
        return NOTHING
    return TEXT_SAMPLES.get(name, NOTHING if name.endswith("id") or name == "pk" else "x")


def _walk(patterns, prefix: str = "", namespace: str = ""):
    for entry in patterns:
        if isinstance(entry, URLResolver):
            inner = namespace + (f"{entry.namespace}:" if entry.namespace else "")
            yield from _walk(entry.url_patterns, prefix + str(entry.pattern), inner)
        elif isinstance(entry, URLPattern):
            yield prefix + str(entry.pattern), entry, namespace


def _url(route: str, entry: URLPattern, namespace: str) -> str:
    if isinstance(entry.pattern, RoutePattern) and "(?P" not in route:
        return "/" + re.sub(r"<(?:(\w+):)?(\w+)>", lambda m: _sample(m.group(2), m.group(1) or "str"), route)
    kwargs = {name: _sample(name) for name in entry.pattern.regex.groupindex}
    return reverse(namespace + entry.name, kwargs=kwargs)


def operator_pages() -> tuple[list[Endpoint], list[str]]:
    """Every page that declares a need, and the routes that declare none outside the allow-lists."""
    pages, undeclared = [], []
    for route, entry, namespace in _walk(get_resolver().url_patterns):
        if route.startswith(OTHER_SITES) or (route.startswith(API_PREFIX) and namespace.startswith("api-v1")):
            continue
        need = page_need(entry.callback)
        allow_listed = route in PUBLIC_PAGES | OWNER_CHECKED_PAGES | CUSTOMER_PAGES
        if need is None and route in CUSTOMER_PAGES:
            need = Need(CUSTOMER)
        elif need is None or allow_listed:
            if not allow_listed or need is not None:
                undeclared.append(route)
            continue
        pages.append(Endpoint(route, _url(route, entry, namespace), ("GET", "POST"), need, view=entry.callback))
    return pages, undeclared


def _operations():
    from wanxin.api import api

    for bound in api._get_bound_routers():
        for path, path_view in bound.path_operations.items():
            for operation in path_view.operations:
                full = normalize_path("/".join(p for p in (f"/{API_PREFIX}", bound.prefix, path) if p))
                for method in operation.methods:
                    yield f"{method} {full}", full, method, operation


def api_operations() -> tuple[list[Endpoint], list[str]]:
    """Every operation that declares a need, and those that declare none outside the allow-list."""
    found, undeclared = [], []
    for route, full, method, operation in _operations():
        need = operation_need(operation)
        if need is None or route in PUBLIC_OPERATIONS:
            if need is not None or route not in PUBLIC_OPERATIONS:
                undeclared.append(route)
            continue
        url = re.sub(r"{(?:\w+:)?(\w+)}", lambda m: _sample(m.group(1)), full)
        found.append(Endpoint(route, url, (method,), need, api=True))
    return found, undeclared


PAGES, UNDECLARED_PAGES = operator_pages()
OPERATIONS, UNDECLARED_OPERATIONS = api_operations()


def test_every_page_and_operation_declares_what_it_needs():
    assert UNDECLARED_PAGES == [], "declare the permission (require_operator_permission) or allow-list it"
    assert UNDECLARED_OPERATIONS == [], "give the operation auth=operator_auth(...)/customer_auth or allow-list it"


def test_the_allow_lists_name_only_what_exists():
    routes = {route for route, _, _ in _walk(get_resolver().url_patterns)}
    assert (PUBLIC_PAGES | OWNER_CHECKED_PAGES | CUSTOMER_PAGES) - routes == set()
    assert PUBLIC_OPERATIONS - {route for route, *_ in _operations()} == set()


def test_the_walk_finds_the_known_operator_areas():
    """A guard against a walk that silently finds nothing: each operator area is there."""
    routes = [e.route for e in PAGES + OPERATIONS]
    for area in ("backoffice/operators/", "backoffice/risk/", "backoffice/reconciliation/", "loans/review/",
                 "allocation/desk/", "GET /api/v1/backoffice/", "GET /api/v1/funds/"):
        assert any(r.startswith(area) for r in routes), area


@pytest.fixture(scope="module")
def _logged_in(django_db_setup, django_db_blocker):
    """One user and one logged-in client per principal for the whole module (made once:
    per test it took longer than the requests). Committed, so removed at the end."""
    with django_db_blocker.unblock():
        users = {name: f.operator(role) for name, role in DEMO.items()}
        users[NO_ROLE] = f.operator()
        users[CUSTOMER_USER] = f.customer()
        made = {ANONYMOUS: (Client(), None)}
        for name, user in users.items():
            client = Client()
            client.force_login(user)
            made[name] = (client, client.cookies[settings.SESSION_COOKIE_NAME].value)
    yield made
    with django_db_blocker.unblock():
        Session.objects.filter(session_key__in=[key for _, key in made.values() if key]).delete()
        User.objects.filter(pk__in=[u.pk for u in users.values()]).delete()


@pytest.fixture
def clients(_logged_in) -> dict[str, Client]:
    # A test that logged a principal out rolled the session's removal back: use it again.
    for client, key in _logged_in.values():
        client.cookies.clear()
        if key:
            client.cookies[settings.SESSION_COOKIE_NAME] = key
    return {name: client for name, (client, _) in _logged_in.items()}


@pytest.fixture(autouse=True, scope="module")
def _fast():
    with override_settings(PASSWORD_HASHERS=["django.contrib.auth.hashers.MD5PasswordHasher"]):
        yield


def allowed(need: Need, principal: str) -> bool:
    if principal in (ANONYMOUS, CUSTOMER_USER):
        return principal == CUSTOMER_USER and need.who == CUSTOMER
    return need.allows(operator=True, codenames=roles.ROLES.get(DEMO.get(principal), ()))


def _login_redirect(response, login_url: str) -> bool:
    return response.status_code == 302 and response["Location"].startswith(f"{login_url}?next=")


def refused_as_expected(endpoint: Endpoint, principal: str, response) -> bool:
    operator = principal not in (ANONYMOUS, CUSTOMER_USER)
    if endpoint.api:
        return response.status_code == (403 if operator and endpoint.need.who != CUSTOMER else 401)
    if endpoint.need.who == CUSTOMER:
        return response.status_code == 403 if operator else _login_redirect(response, settings.LOGIN_URL)
    return response.status_code == 403 if operator else _login_redirect(response, settings.BACKOFFICE_LOGIN_URL)


def succeeded(response) -> bool:
    return (response.status_code not in (401, 403) and response.status_code < 500
            and not _login_redirect(response, settings.LOGIN_URL)
            and not _login_redirect(response, settings.BACKOFFICE_LOGIN_URL))


def attempt(client: Client, endpoint: Endpoint, method: str):
    if method == "GET":
        return client.get(endpoint.url)
    if endpoint.api:
        return client.generic(method, endpoint.url, "{}", content_type="application/json")
    return client.post(endpoint.url, {})


@pytest.mark.parametrize("endpoint", PAGES + OPERATIONS, ids=str)
def test_exactly_the_allowed_principals_get_through(clients, endpoint: Endpoint):
    if endpoint.view is not None:
        assert resolve(endpoint.url).func is endpoint.view, f"{endpoint.url} does not reach {endpoint}: add a sample"
    customer_side = endpoint.need.who == CUSTOMER
    # Customers' endpoints: the customer, a stranger and one operator are enough.
    principals = [CUSTOMER_USER, ANONYMOUS, "service"] if customer_side else PRINCIPALS
    served, wrong = [], []
    for method in endpoint.methods:
        answers = {p: attempt(clients[p], endpoint, method) for p in principals}
        if all(answers[p].status_code == 405 for p in principals if allowed(endpoint.need, p)):
            # The method is not served (checked before or after the permission).
            wrong += [(method, p, r.status_code) for p, r in answers.items()
                      if r.status_code != 405 and not refused_as_expected(endpoint, p, r)]
            continue
        served.append(method)
        for principal, response in answers.items():
            ok = succeeded(response) if allowed(endpoint.need, principal) else refused_as_expected(
                endpoint, principal, response)
            if not ok:
                wrong.append((method, principal, response.status_code, response.get("Location", "")))
    assert served, f"{endpoint} answers none of {endpoint.methods}"
    assert wrong == [], f"{endpoint} needs {endpoint.need}"


@pytest.mark.parametrize("role", list(roles.ROLES))
def test_no_role_opens_the_django_admin(client, role):
    client.force_login(f.operator(role))
    response = client.get("/backoffice/admin/")
    assert response.status_code == 302 and response["Location"].startswith("/backoffice/admin/login/")
