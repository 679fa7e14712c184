"""What every page and API operation declares it needs, read back from the code.

A page declares itself with a decorator of ``access`` (``require_operator_permission``: all
of the permissions; no argument: any operator) or ``require_any_operator_permission`` below
(any one of them). An API operation declares itself by its ``auth=``: ``operator_auth(...)``
or ``accounts.auth.customer_auth``. ``page_need``/``operation_need`` read those declarations,
so the role-matrix test (``tests/test_role_matrix.py``) finds every new page and operation
without being edited, and fails on one that declares nothing.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from functools import wraps

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from wanxin.accounts.auth import CustomerBearerToken, CustomerSession

from . import access
from .roles import PERMISSIONS

OPERATOR, CUSTOMER = "operator", "customer"


@dataclass(frozen=True)
class Need:
    """Who may use an endpoint: customers, or operators holding ``all_of`` and (when given)
    at least one of ``any_of`` (both empty: any operator)."""

    who: str
    all_of: tuple[str, ...] = ()
    any_of: tuple[str, ...] = ()

    def allows(self, *, operator: bool, codenames: Iterable[str] = ()) -> bool:
        """Whether a logged-in user gets through: a customer (``operator`` False), or an operator
        whose roles hold ``codenames``."""
        if self.who == CUSTOMER:
            return not operator
        if not operator:
            return False
        held = {f"backoffice.{c}" for c in codenames}
        return set(self.all_of) <= held and (not self.any_of or bool(held & set(self.any_of)))

    def __str__(self) -> str:
        if self.who == CUSTOMER:
            return "customer"
        parts = [p.removeprefix("backoffice.") for p in self.all_of]
        if self.any_of:
            parts.append(" or ".join(p.removeprefix("backoffice.") for p in self.any_of))
        return " and ".join(parts) or "any operator"


def require_any_operator_permission(*permissions: str) -> Callable:
    """Like ``access.require_operator_permission``, for a page that operators holding any
    one of ``permissions`` may open (e.g. the allocation desk: its operators, and the finance
    officers who approve its settlements)."""
    for label in permissions:
        app, _, codename = label.partition(".")
        if app != "backoffice" or codename not in PERMISSIONS:
            raise ValueError(f"unknown back-office permission {label!r}")
    if not permissions:
        raise ValueError("name at least one permission")

    def decorator(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
        @wraps(view)
        def holding_one(request: HttpRequest, *args, **kwargs) -> HttpResponse:
            if not any(request.user.has_perm(p) for p in permissions):
                return render(request, "backoffice/forbidden.html", {"missing": list(permissions)}, status=403)
            return view(request, *args, **kwargs)

        guarded = access.require_operator(holding_one)
        guarded.operator_permissions_any = permissions  # type: ignore[attr-defined]
        return guarded

    return decorator


def page_need(view: Callable) -> Need | None:
    """What a page's view declares (``None``: nothing, i.e. public or checked by hand)."""
    all_of = getattr(view, "operator_permissions", None)
    if all_of is None:
        return None
    return Need(OPERATOR, tuple(all_of), tuple(getattr(view, "operator_permissions_any", ())))


def operation_need(operation) -> Need | None:
    """What a Ninja operation's ``auth=`` declares (``None``: no authentication)."""
    callbacks = list(operation.auth_callbacks)
    if not callbacks:
        return None
    if all(isinstance(c, access.OperatorSession) for c in callbacks) and len(callbacks) == 1:
        return Need(OPERATOR, tuple(callbacks[0].permissions))
    if all(isinstance(c, CustomerBearerToken | CustomerSession) for c in callbacks):
        return Need(CUSTOMER)
    raise ValueError(f"{operation.view_func.__qualname__}: an authentication the role matrix does not know")
