"""Who may act: the one guard module. Three meanings, each explicit:

- **a customer**: ``customer_require(user)`` in services, ``@customer_required`` on pages: a
  logged-in, active customer (not an operator, staff or superuser). Customer API operations
  authenticate with ``wanxin.accounts.auth.customer_auth`` (sessions or the customer's tokens).
- **an operator with permission X**: ``operator_require(actor, "review_loans")`` in services;
  ``@require_operator_permission("backoffice.review_loans")`` on pages (no argument: any
  operator; ``@require_any_operator_permission(a, b)``: holding either) and ``auth=operator_auth("backoffice.review_loans")`` on Ninja operations.
- **the system**: the platform itself (a scheduled job, a management command, the demo seed)
  passes ``actor=SYSTEM``; only services that the system may run accept it, through
  ``operator_or_system_require``. ``None`` is never an actor: a missing operator is refused
  (403), it does not silently become the system.

Pages: anonymous visitors and customers are sent to the back-office login; an operator
lacking the permission gets a 403 page. API: anonymous callers and customers get 401; an
operator lacking the permission gets 403 ``{"code": "forbidden"}``.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps

from django.conf import settings
from django.contrib.auth.views import redirect_to_login
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils.translation import gettext as _
from ninja.security import SessionAuth

from wanxin.core.errors import WanxinError

from . import roles
from .context import audit_context_set


class Forbidden(WanxinError):
    status = 403


class System:
    """The platform acting on its own (jobs, commands, seed): audited with no actor."""

    _instance: System | None = None

    def __new__(cls) -> System:
        if cls._instance is None:
            cls._instance = super().__new__(cls)
        return cls._instance

    def __repr__(self) -> str:
        return "SYSTEM"


SYSTEM = System()


def is_operator(user) -> bool:
    return bool(user is not None and user is not SYSTEM and user.is_authenticated and user.is_active
                and getattr(user, "is_operator", False))


def is_customer(user) -> bool:
    return bool(user is not None and user is not SYSTEM and user.is_authenticated and user.is_active
                and getattr(user, "is_customer", False))


def customer_require(user, message: str | None = None, *, code: str = "not_customer") -> None:
    """A logged-in, active customer; anyone else is refused (403) with ``message``."""
    if not is_customer(user):
        raise Forbidden(message or _("Only customers can do this."), code=code)


def operator_require(actor, codename: str, message: str | None = None) -> None:
    """An active operator holding ``backoffice.<codename>``; anyone else, the system and
    ``None`` included, is refused (403)."""
    label = roles.perm(codename)  # an unknown permission is a programming error (KeyError)
    if not (is_operator(actor) and actor.has_perm(label)):
        raise Forbidden(message or _("You do not have permission to do this."), code="forbidden")


def operator_or_system_require(actor, codename: str) -> None:
    """``SYSTEM``, or an operator holding ``codename``: for the services a job or command runs too."""
    if actor is not SYSTEM:
        operator_require(actor, codename)


def person(actor):
    """The user to store as who acted: ``None`` for the system."""
    return None if actor is SYSTEM else actor


# -- pages and API operations ---------------------------------------------------------------


def customer_page(refused_template: str = "accounts/operator_refused.html") -> Callable:
    """Page decorator: a logged-in customer, else the login page; an operator gets a 403 page
    (``refused_template``, which may point them to their side of the console)."""

    def decorator(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
        @wraps(view)
        def wrapped(request: HttpRequest, *args, **kwargs) -> HttpResponse:
            if not request.user.is_authenticated:
                return redirect_to_login(request.get_full_path(), settings.LOGIN_URL)
            if not is_customer(request.user):
                return render(request, refused_template, status=403)
            return view(request, *args, **kwargs)

        return wrapped

    return decorator


customer_required = customer_page()


def _check_labels(permissions: tuple[str, ...]) -> None:
    for label in permissions:
        app, _sep, codename = label.partition(".")
        if app != "backoffice" or codename not in roles.PERMISSIONS:
            raise ValueError(f"unknown back-office permission {label!r}")


def require_operator_permission(*permissions: str) -> Callable:
    """Page decorator: an active operator holding every one of ``permissions``."""
    _check_labels(permissions)

    def decorator(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
        @wraps(view)
        def wrapped(request: HttpRequest, *args, **kwargs) -> HttpResponse:
            if not is_operator(request.user):
                return redirect_to_login(request.get_full_path(), settings.BACKOFFICE_LOGIN_URL)
            if not request.user.has_perms(permissions):
                # The page of the console's layout (a template name, not an import of the console).
                return render(request, "backoffice/forbidden.html",
                              {"missing": [p for p in permissions if not request.user.has_perm(p)]}, status=403)
            audit_context_set(request)
            return view(request, *args, **kwargs)

        wrapped.operator_permissions = permissions  # type: ignore[attr-defined]
        return wrapped

    return decorator


require_operator = require_operator_permission()


def require_any_operator_permission(*permissions: str) -> Callable:
    """Like ``require_operator_permission``, for a page that operators holding any one of
    ``permissions`` may open (e.g. the allocation desk: its operators, and the finance officers
    who approve its settlements)."""
    if not permissions:
        raise ValueError("name at least one permission")
    _check_labels(permissions)

    def decorator(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
        @wraps(view)
        def holding_one(request: HttpRequest, *args, **kwargs) -> HttpResponse:
            if not any(request.user.has_perm(p) for p in permissions):
                return render(request, "backoffice/forbidden.html", {"missing": list(permissions)}, status=403)
            return view(request, *args, **kwargs)

        guarded = require_operator(holding_one)
        guarded.operator_permissions_any = permissions  # type: ignore[attr-defined]
        return guarded

    return decorator


class OperatorSession(SessionAuth):
    """Session authentication (CSRF-checked for unsafe methods) of an active operator
    holding every one of ``permissions``."""

    def __init__(self, *permissions: str, csrf: bool = True):
        _check_labels(permissions)
        super().__init__(csrf=csrf)
        self.permissions = permissions

    def authenticate(self, request: HttpRequest, key: str | None):
        user = super().authenticate(request, key)
        if user is None or not is_operator(user):
            return None
        if not user.has_perms(self.permissions):
            raise Forbidden(_("You do not have permission to do this."), code="forbidden")
        audit_context_set(request)
        return user


def operator_auth(*permissions: str) -> OperatorSession:
    """The Ninja equivalent of ``require_operator_permission``: use as ``auth=``."""
    return OperatorSession(*permissions)
