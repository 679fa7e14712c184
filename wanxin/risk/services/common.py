"""What the risk services share: their refusals, the officers' permission check, the
advisory lock that serialises writers on one key, and reasons in the reader's language."""

from __future__ import annotations

import hashlib
from collections.abc import Mapping

from django.db import connection
from django.utils.translation import gettext as _

from wanxin.audit.guards import operator_require
from wanxin.core.errors import WanxinError

from .. import domain
from ..models import RuleCheck


class RuleRefused(WanxinError):
    """A rule change refused; ``code`` names the input at fault."""


class RiskBlocked(WanxinError):
    """A blocking rule stopped the action; the message gives the reasons."""

    status = 403

    def __init__(self, message: str, *, check: RuleCheck, status: int = 403):
        super().__init__(message, code="risk_blocked", status=status)
        self.check = check


def require_officer(actor) -> None:
    operator_require(actor, "manage_risk_rules", _("Managing risk rules needs the permission “manage risk rules”."))


def reason(hit: Mapping) -> str:
    """A logged hit's reason in the active language."""
    return _(hit["template"]) % {k: _(v) for k, v in hit.get("params", {}).items()}


def advisory_lock(*keys: str) -> None:
    """Serialise, until the transaction ends, writers on one key: velocity checks (count, then
    log), changes to one rule kind and scope, to one blacklisted value."""
    with connection.cursor() as cursor:
        for key in sorted(set(keys)):
            lock_id = int.from_bytes(hashlib.blake2b(key.encode(), digest_size=8).digest(), "big", signed=True)
            cursor.execute("SELECT pg_advisory_xact_lock(%s)", [lock_id])


def refusal(exc: domain.RuleInvalid) -> RuleRefused:
    return RuleRefused(_(exc.template) % exc.params if exc.params else _(exc.template), code=exc.field or "invalid")
