"""Who may call a lending write (kept small: the foundation's guards will replace these)."""

from __future__ import annotations

from django.utils.translation import gettext as _

from wanxin.backoffice import roles
from wanxin.backoffice.services import Forbidden
from wanxin.core.errors import WanxinError


def operator_require(actor, codename: str) -> None:
    """An active operator holding permission ``codename``; anyone else is refused (403)."""
    if actor is None or not (getattr(actor, "is_operator", False) and actor.is_active
                             and actor.has_perm(roles.perm(codename))):
        raise Forbidden(_("You do not have permission to do this."), code="forbidden")


def customer_require(user) -> None:
    """A logged-in customer; anyone else is refused (403)."""
    if user is None or not user.is_authenticated or not getattr(user, "is_customer", False):
        raise WanxinError(_("Only customers can do this."), code="not_customer", status=403)
