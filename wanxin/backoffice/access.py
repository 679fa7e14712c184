"""Who may use the back office: operators only, each action behind a named permission.

Pages: ``@require_operator_permission("backoffice.review_kyc")`` (no argument: any
operator). Anonymous visitors and customers are sent to the back-office login; an
operator lacking the permission gets a 403 page.

API: ``auth=operator_auth("backoffice.review_kyc")`` on a Ninja operation. Anonymous
callers and customers get 401; an operator lacking the permission gets 403.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps

from django.conf import settings
from django.contrib.auth.views import redirect_to_login
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from ninja.security import SessionAuth

from .roles import PERMISSIONS
from .services import Forbidden, audit_context_set


def is_operator(user) -> bool:
    return bool(user.is_authenticated and user.is_active and getattr(user, "is_operator", False))


def _check_labels(permissions: tuple[str, ...]) -> None:
    for label in permissions:
        app, _, codename = label.partition(".")
        if app != "backoffice" or codename not in PERMISSIONS:
            raise ValueError(f"unknown back-office permission {label!r}")


def require_operator_permission(*permissions: str) -> Callable:
    _check_labels(permissions)

    def decorator(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
        @wraps(view)
        def wrapped(request: HttpRequest, *args, **kwargs) -> HttpResponse:
            if not is_operator(request.user):
                return redirect_to_login(request.get_full_path(), settings.BACKOFFICE_LOGIN_URL)
            if not request.user.has_perms(permissions):
                return render(request, "backoffice/forbidden.html",
                              {"missing": [p for p in permissions if not request.user.has_perm(p)]}, status=403)
            audit_context_set(request)
            return view(request, *args, **kwargs)

        wrapped.operator_permissions = permissions  # type: ignore[attr-defined]
        return wrapped

    return decorator


require_operator = require_operator_permission()


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
            raise Forbidden("You do not have permission to do this.", code="forbidden")
        audit_context_set(request)
        return user


def operator_auth(*permissions: str) -> OperatorSession:
    """The Ninja equivalent of ``require_operator_permission``: use as ``auth=``."""
    return OperatorSession(*permissions)
