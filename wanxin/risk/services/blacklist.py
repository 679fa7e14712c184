"""The blacklist: ID, mobile and card numbers, stored encrypted and found by blind index."""

from __future__ import annotations

import datetime as dt

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from wanxin.audit.actions import AuditAction
from wanxin.audit.log import audit_record
from wanxin.core.errors import Conflict, NotFound
from wanxin.core.identity import IdentityError, check_card_number, check_mobile
from wanxin.fields import blind_index

from .. import domain
from ..models import BlacklistEntry
from .common import RuleRefused, advisory_lock, require_officer


def _blacklist_value(kind: str, value: str) -> str:
    value = (value or "").strip()
    try:
        if kind == BlacklistEntry.Kind.ID_NUMBER:
            value = value.upper()
            if not (len(value) == 18 and value[:17].isdigit() and (value[17].isdigit() or value[17] == "X")):
                raise IdentityError(_("An ID number has 18 characters: 17 digits and a digit or X."))
            return value
        if kind == BlacklistEntry.Kind.MOBILE:
            return check_mobile(value)
        if kind == BlacklistEntry.Kind.CARD_NUMBER:
            return check_card_number(value)
    except IdentityError as exc:
        raise RuleRefused(_(str(exc)), code="value") from exc
    raise RuleRefused(_("Choose what to blacklist: an ID number, a mobile number or a bank card."), code="kind")


def blacklist_add(*, operator, kind: str, value: str, action: str = domain.BLOCK, note: str = "",
                  effective_from: dt.datetime | None = None, effective_to: dt.datetime | None = None) -> BlacklistEntry:
    """Blacklist an ID number, mobile or card number (stored encrypted, found by its blind index).
    Refused when the same value already has an entry whose window overlaps."""
    require_officer(operator)
    value = _blacklist_value(kind, value)
    now = timezone.now()
    start = max(effective_from or now, now)  # as for rules: never into the past
    if action not in domain.ACTIONS:
        raise RuleRefused(_("Choose whether the entry blocks or warns."), code="action")
    if effective_to is not None and effective_to <= start:
        raise RuleRefused(_("The end of the entry's window must come after its start."), code="effective_to")
    if effective_to is not None and effective_to <= now:
        raise RuleRefused(_("The entry's window would end in the past; choose a later end."), code="effective_to")
    if len(note or "") > 300:
        raise RuleRefused(_("A note has at most 300 characters."), code="note")
    index = blind_index(value)
    with transaction.atomic():
        advisory_lock(f"risk:blacklist:{index}")
        for other in BlacklistEntry.objects.filter(kind=kind, value_index=index):
            if domain.windows_overlap(start, effective_to, other.effective_from, other.effective_to):
                raise RuleRefused(_("This %(what)s is already on the blacklist (entry #%(id)s) for an overlapping "
                                    "window.") % {"what": _(domain.BLACKLIST_KINDS[kind]), "id": other.pk},
                                  code="value", status=409)
        entry = BlacklistEntry.objects.create(kind=kind, value=value, value_index=index, action=action,
                                              note=(note or "").strip(), effective_from=start,
                                              effective_to=effective_to, created_by=operator)
        audit_record(actor=operator, action=AuditAction.RISK_BLACKLIST_ADD, target=entry, before=None,
                     after={"kind": kind, "value": entry.masked, "action": action, "note": entry.note,
                            "effective_from": start.isoformat(),
                            "effective_to": effective_to.isoformat() if effective_to else None})
    return entry


def blacklist_expire(*, operator, entry_id: int) -> BlacklistEntry:
    """Take an entry off the blacklist from now (one not started yet is withdrawn)."""
    require_officer(operator)
    now = timezone.now()
    with transaction.atomic():
        entry = BlacklistEntry.objects.select_for_update().filter(pk=entry_id).first()
        if entry is None:
            raise NotFound(_("No such blacklist entry."), code="not_found")
        state = entry.state(now)
        before = {"kind": entry.kind, "value": entry.masked, "state": state}
        if state == "expired":
            raise Conflict(_("This entry has already expired."), code="expired")
        if state == "scheduled":
            audit_record(actor=operator, action=AuditAction.RISK_BLACKLIST_WITHDRAW, target=entry, before=before, after=None)
            entry.delete()
            return entry
        entry.effective_to = now
        entry.save(update_fields=["effective_to"])
        audit_record(actor=operator, action=AuditAction.RISK_BLACKLIST_EXPIRE, target=entry, before=before,
                     after={**before, "state": "expired", "effective_to": now.isoformat()})
    return entry
