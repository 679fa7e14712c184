"""Back-office pages: login, logout, dashboard, operators, audit log, customers."""

from __future__ import annotations

from urllib.parse import urlencode

from django.contrib import messages
from django.contrib.auth import logout, update_session_auth_hash
from django.contrib.auth.views import LoginView
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from wanxin.audit import chain, roles
from wanxin.audit import tiles as dashboard_tiles
from wanxin.audit.context import client_ip
from wanxin.audit.guards import is_operator, require_operator, require_operator_permission
from wanxin.core.errors import NotFound, WanxinError
from wanxin.kyc import selectors as kyc_selectors

from . import labels, selectors, services
from .forms import (
    AuditFilterForm,
    OperatorCreateForm,
    OperatorLoginForm,
    PasswordChangeForm,
    RolesForm,
)

PAGE_SIZE = 50


class OperatorLoginView(LoginView):
    form_class = OperatorLoginForm
    template_name = "backoffice/login.html"

    def dispatch(self, request, *args, **kwargs):
        if is_operator(request.user) and request.method == "GET":
            return redirect(self.get_success_url())
        return super().dispatch(request, *args, **kwargs)

    def get_default_redirect_url(self) -> str:
        return reverse("backoffice:dashboard")

    def form_valid(self, form):
        response = super().form_valid(form)
        services.operator_login_record(operator=form.get_user(), ip=client_ip(self.request))
        return response


login_view = OperatorLoginView.as_view()


@require_http_methods(["GET", "POST"])
@require_operator
def logout_view(request: HttpRequest) -> HttpResponse:
    if request.method == "GET":
        return render(request, "backoffice/logout.html")
    services.operator_logout_record(operator=request.user, ip=client_ip(request))
    logout(request)
    messages.info(request, _("You are logged out of the back office."))
    return redirect("backoffice:login")


@require_GET
@require_operator
def dashboard(request: HttpRequest) -> HttpResponse:
    user = request.user
    tiles = []
    if user.has_perm(roles.perm("review_kyc")):
        tiles.append((_("KYC applications awaiting review"), kyc_selectors.queue_size(), reverse("backoffice:kyc:queue")))
    tiles += dashboard_tiles.tiles_for(user)  # the apps' own queues (lending, repayments)
    if user.has_perm(roles.perm("manage_operators")):
        tiles.append((_("Operators"), selectors.operators_list().count(), reverse("backoffice:operators")))
        tiles.append((_("Roles awaiting a second administrator"), selectors.grants_list().count(),
                      reverse("backoffice:operators")))
    if user.has_perm(roles.perm("view_customers")):
        tiles.append((_("Customers"), selectors.customers_list().count(), reverse("backoffice:customers")))
    return render(request, "backoffice/dashboard.html", {
        "roles": [labels.role_label(r) for r in sorted(user.groups.values_list("name", flat=True))],
        "permissions": [(c, labels.PERMISSION_LABELS[c]) for c in selectors.operator_permissions(user)],
        "tiles": tiles,
    })


@require_http_methods(["GET", "POST"])
@require_operator
def password_change(request: HttpRequest) -> HttpResponse:
    form = PasswordChangeForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            services.operator_password_change(operator=request.user, old_password=form.cleaned_data["old_password"],
                                              new_password=form.cleaned_data["new_password"])
        except WanxinError as exc:
            form.add_error(None, exc.message)
        else:
            update_session_auth_hash(request, request.user)
            messages.success(request, _("Your password is changed."))
            return redirect("backoffice:dashboard")
    return render(request, "backoffice/password.html", {"form": form})


# -- operators ----------------------------------------------------------------------------

MANAGE = "backoffice.manage_operators"


@require_GET
@require_operator_permission(MANAGE)
def operators(request: HttpRequest) -> HttpResponse:
    pending = selectors.pending_roles_by_operator()
    # A pending role shows ticked: leaving it ticked keeps the proposal, unticking cancels it.
    rows = [(op, RolesForm(initial={"roles": [g.name for g in op.groups.all()] + pending.get(op.pk, [])},
                           prefix=f"op{op.pk}"), pending.get(op.pk, []))
            for op in selectors.operators_list()]
    return render(request, "backoffice/operators.html", {"rows": rows, "grants": selectors.grants_list()})


def _pending_note(user) -> str:
    pending = selectors.pending_roles_of(user)
    if not pending:
        return ""
    names = ", ".join(labels.role_label(r) for r in pending)
    return " " + _("Awaiting a second administrator's confirmation: %(roles)s.") % {"roles": names}


@require_http_methods(["GET", "POST"])
@require_operator_permission(MANAGE)
def operator_new(request: HttpRequest) -> HttpResponse:
    form = OperatorCreateForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            user, password = services.operator_create(
                actor=request.user, username=data["username"], password=data["password"] or None,
                role_names=data["roles"], email=data["email"], full_name=data["full_name"])
        except WanxinError as exc:
            form.add_error(None, exc.message)
        else:
            if data["password"]:
                messages.success(request, _("Operator %(name)s created.") % {"name": user.username}
                                 + _pending_note(user))
            else:
                messages.success(request, _("Operator %(name)s created. Initial password (shown once): %(password)s")
                                 % {"name": user.username, "password": password} + _pending_note(user))
            return redirect("backoffice:operators")
    return render(request, "backoffice/operator_new.html", {"form": form})


def _operator_action(request: HttpRequest, action, **kwargs) -> HttpResponse:
    try:
        user = action(actor=request.user, **kwargs)
    except NotFound as exc:
        raise Http404(exc.message) from exc
    except WanxinError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, _("Operator %(name)s updated.") % {"name": user.username} + _pending_note(user))
    return redirect("backoffice:operators")


@require_POST
@require_operator_permission(MANAGE)
def operator_roles(request: HttpRequest, operator_id: int) -> HttpResponse:
    form = RolesForm(request.POST, prefix=f"op{operator_id}")
    if not form.is_valid():
        messages.error(request, _("Choose at least one known role."))
        return redirect("backoffice:operators")
    return _operator_action(request, services.operator_roles_set, operator_id=operator_id,
                            role_names=form.cleaned_data["roles"])


@require_POST
@require_operator_permission(MANAGE)
def operator_deactivate(request: HttpRequest, operator_id: int) -> HttpResponse:
    return _operator_action(request, services.operator_deactivate, operator_id=operator_id)


@require_POST
@require_operator_permission(MANAGE)
def operator_activate(request: HttpRequest, operator_id: int) -> HttpResponse:
    return _operator_action(request, services.operator_activate, operator_id=operator_id)


@require_GET
@require_operator_permission(MANAGE)
def grant(request: HttpRequest, grant_id: int) -> HttpResponse:
    """A proposed grant, what it would give, and the confirm / cancel buttons."""
    found = selectors.grant_get(grant_id)
    if found is None:
        raise Http404(_("No such grant."))
    codenames = sorted(roles.ROLES.get(found.role, ()))
    return render(request, "backoffice/grant.html", {
        "grant": found,
        "permissions": [(labels.PERMISSION_LABELS[c], c in roles.MONEY_PERMISSIONS) for c in codenames],
        "may_confirm": request.user.pk not in (found.proposed_by_id, found.operator_id),
    })


def _grant_action(request: HttpRequest, action, grant_id: int, done: str) -> HttpResponse:
    try:
        found = action(actor=request.user, grant_id=grant_id)
    except NotFound as exc:
        raise Http404(exc.message) from exc
    except WanxinError as exc:
        messages.error(request, exc.message)
        return redirect("backoffice:grant", grant_id=grant_id)
    messages.success(request, done % {"role": labels.role_label(found.role), "operator": found.operator.username})
    return redirect("backoffice:operators")


@require_POST
@require_operator_permission(MANAGE)
def grant_confirm(request: HttpRequest, grant_id: int) -> HttpResponse:
    return _grant_action(request, services.grant_confirm, grant_id,
                         _("Confirmed: %(operator)s now holds the role %(role)s."))


@require_POST
@require_operator_permission(MANAGE)
def grant_cancel(request: HttpRequest, grant_id: int) -> HttpResponse:
    return _grant_action(request, services.grant_cancel, grant_id,
                         _("Cancelled: %(operator)s does not get the role %(role)s."))


# -- audit log ----------------------------------------------------------------------------


@require_GET
@require_operator_permission("backoffice.view_audit_log")
def audit(request: HttpRequest) -> HttpResponse:
    form = AuditFilterForm(request.GET or None)
    filters = selectors.AuditFilters(**form.cleaned_data) if form.is_valid() else selectors.AuditFilters()
    page = Paginator(selectors.audit_list(filters), PAGE_SIZE).get_page(request.GET.get("page"))
    query = request.GET.copy()
    query.pop("page", None)
    query.pop("verify", None)
    # The whole chain is walked on request (it reads every row), else the last verdict is shown
    # (the hourly job ``audit.verify_chain`` and ``manage.py audit_verify`` keep it).
    if request.GET.get("verify"):
        chain.verify_and_remember()
    return render(request, "backoffice/audit.html", {
        "form": form, "page": page, "query": query.urlencode(), "operators": selectors.audit_operators(),
        "target_types": selectors.audit_target_types(), "verdict": chain.last_verdict(),
    })


# -- customers ----------------------------------------------------------------------------

VIEW_CUSTOMERS = "backoffice.view_customers"


@require_GET
@require_operator_permission(VIEW_CUSTOMERS)
def customers(request: HttpRequest) -> HttpResponse:
    query = request.GET.get("q", "")
    page = Paginator(selectors.customers_list(query=query), PAGE_SIZE).get_page(request.GET.get("page"))
    return render(request, "backoffice/customers.html", {"page": page, "q": query,
                                                         "query": urlencode({"q": query}) if query else ""})


@require_GET
@require_operator_permission(VIEW_CUSTOMERS)
def customer(request: HttpRequest, customer_id: int) -> HttpResponse:
    found = selectors.customer_get(customer_id)
    if found is None:
        raise Http404(_("No such customer."))
    return render(request, "backoffice/customer.html", {"customer": found,
                                                        "kyc": getattr(found, "kyc_application", None)})
