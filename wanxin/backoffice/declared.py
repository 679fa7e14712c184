"""What every page and API operation declares it needs, read back from the code.

A page declares itself with a decorator of ``wanxin.audit.guards`` (``require_operator_permission``:
all of the permissions; no argument: any operator; ``require_any_operator_permission``: any one
of them). An API operation declares itself by its ``auth=``: ``operator_auth(...)``
or ``accounts.auth.customer_auth``. ``page_need``/``operation_need`` read those declarations,
so the role-matrix test (``tests/test_role_matrix.py``) finds every new page and operation
without being edited, and fails on one that declares nothing.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass

from wanxin.accounts.auth import CustomerBearerToken, CustomerSession
from wanxin.audit import guards as access

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
