"""Separation of duties for money actions: the checker must be independent of the maker.

Four eyes on accounts is not enough: an administrator who proposed a payment could create
an operator (or give one the checker's role) and approve through it. So the checker of a
money action may be neither its maker, nor an operator the maker created, nor one holding
the checker's permission through a grant the maker proposed or confirmed. Every money
action's checker calls ``checker_independence_require`` (disbursement approval today;
allocation settlement and reconciliation-day close when they come).
"""

from __future__ import annotations

import logging

from django.db.models import Q
from django.utils.translation import gettext as _

from . import roles
from .guards import Forbidden
from .models import RoleGrant

log = logging.getLogger(__name__)


def checker_dependence(*, maker_id: int | None, checker, permission: str) -> str | None:
    """Why ``checker`` may not check what ``maker_id`` made with ``permission`` (a money
    permission codename), as a refusal code; None when independent. A None maker is the
    system, from which everyone is independent."""
    if permission not in roles.MONEY_PERMISSIONS:
        raise ValueError(f"{permission!r} is not a money permission (roles.MONEY_PERMISSIONS)")
    if maker_id is None:
        return None
    if checker.pk == maker_id:
        return "four_eyes"
    if checker.created_by_id == maker_id:
        return "created_by_maker"
    granted_by_maker = RoleGrant.objects.filter(
        Q(proposed_by_id=maker_id) | Q(decided_by_id=maker_id),
        operator_id=checker.pk, role__in=roles.roles_with(permission), status=RoleGrant.Status.CONFIRMED)
    if granted_by_maker.exists():
        return "granted_by_maker"
    return None


def checker_independence_require(*, maker_id: int | None, checker, permission: str) -> None:
    """Raise ``Forbidden`` unless ``checker`` is independent of the maker (see module)."""
    code = checker_dependence(maker_id=maker_id, checker=checker, permission=permission)
    if code is None:
        return
    messages = {
        "four_eyes": _("You made this request; another person must check it."),
        "created_by_maker": _("You were created by the operator who made this request; "
                              "an operator independent of them must check it."),
        "granted_by_maker": _("The operator who made this request proposed or confirmed your role; "
                              "an operator independent of them must check it."),
    }
    log.warning("duty check refused %s: checker %s, maker %s, permission %s", code, checker.pk, maker_id, permission)
    raise Forbidden(messages[code], code=code)
