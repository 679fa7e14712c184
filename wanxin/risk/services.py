"""Every write of risk control: the rule check that callers consult (and its log), and the
risk officers' changes to rules, the blacklist and the points table.

``rules_check`` is the one entry point for callers above (lending, allocation) and, through the
subscriptions registered in ``apps.RiskConfig.ready``, for accounts below. Call it before
opening the action's own transaction: its log row commits by itself, so a refused action still
leaves its record.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal

from django.db import connection, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from wanxin.audit.actions import AuditAction
from wanxin.audit.guards import operator_require
from wanxin.audit.log import audit_record
from wanxin.core.errors import Conflict, NotFound, WanxinError
from wanxin.core.identity import IdentityError, check_card_number, check_mobile, mask_mobile
from wanxin.fields import blind_index
from wanxin.kyc import domain as kyc_domain

from . import domain, selectors
from .models import BlacklistEntry, RiskRule, RuleCheck, ScoreBand


class RuleRefused(WanxinError):
    """A rule change refused; ``code`` names the input at fault."""


class RiskBlocked(WanxinError):
    """A blocking rule stopped the action; the message gives the reasons."""

    status = 403

    def __init__(self, message: str, *, check: RuleCheck, status: int = 403):
        super().__init__(message, code="risk_blocked", status=status)
        self.check = check


def _require(actor) -> None:
    operator_require(actor, "manage_risk_rules", _("Managing risk rules needs the permission “manage risk rules”."))


def reason(hit: Mapping) -> str:
    """A logged hit's reason in the active language."""
    return _(hit["template"]) % {k: _(v) for k, v in hit.get("params", {}).items()}


# -- the check --------------------------------------------------------------------------------


@dataclass(frozen=True)
class CheckResult:
    check: RuleCheck

    @property
    def outcome(self) -> str:
        return self.check.outcome

    @property
    def hits(self) -> list[dict]:
        return self.check.hits

    @property
    def reasons(self) -> list[str]:
        return [reason(h) for h in self.check.hits]

    @property
    def blocked(self) -> bool:
        return self.check.outcome == domain.BLOCK

    def raise_if_blocked(self) -> CheckResult:
        """Stop the action with the blocking rules' reasons (403, or 429 for a velocity limit)."""
        blocking = [h for h in self.check.hits if h["action"] == domain.BLOCK]
        if blocking:
            message = _("Refused by the platform's risk rules: %(reasons)s") % {
                "reasons": " ".join(reason(h) for h in blocking)}
            raise RiskBlocked(message, check=self.check, status=max(h.get("status", 403) for h in blocking))
        return self


def _lock(*keys: str) -> None:
    """Serialise checks on the same velocity key (count, then log) for the transaction."""
    with connection.cursor() as cursor:
        for key in sorted(set(keys)):
            lock_id = int.from_bytes(hashlib.blake2b(key.encode(), digest_size=8).digest(), "big", signed=True)
            cursor.execute("SELECT pg_advisory_xact_lock(%s)", [lock_id])


def _json(value):
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, dict):
        return {str(k): _json(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_json(v) for v in value]
    return value


def rules_check(*, kind: str, subject=None, figures: Mapping[str, object] | None = None) -> CheckResult:
    """Evaluate the rules in force for ``kind`` on ``figures`` (and, for a customer ``subject``,
    their KYC and account facts), log the check with its inputs, hits and outcome, and return it.

    ``figures`` per kind (README): REGISTRATION and SMS ``mobile``, ``ip``; LOAN_APPLICATION
    ``amount``, ``loans_running``, ``credit_in_use``; BID ``amount``, ``loan_amount``,
    ``investor_holding``; ALLOCATION ``multiple``, ``amount``, ``customer_total``,
    ``platform_exposure``. Use ``.raise_if_blocked()`` to stop a blocked action."""
    check_kind = domain.CheckKind(kind)
    now = timezone.now()
    given = dict(figures or {})
    facts: dict = {k: v for k, v in given.items() if k not in ("mobile", "id_number", "card_number")}
    secret: dict = {}
    if subject is not None and getattr(subject, "pk", None):
        more, secret = selectors.customer_facts(subject)
        facts = {**more, **facts}
    mobile = str(given.get("mobile") or secret.get("mobile") or "")
    if mobile:
        facts["mobile"] = mask_mobile(mobile)
    ip = str(given["ip"]) if given.get("ip") else None
    phone_index = blind_index(mobile) if mobile else ""
    rules = selectors.rules_in_force(at=now, kind=check_kind)
    with transaction.atomic():
        velocity = [r for r in rules if r.key in (domain.Key.REGISTRATION_VELOCITY, domain.Key.SMS_VELOCITY)]
        if velocity:
            _lock(*(f"risk:{check_kind}:{r.scope}:{ip if r.scope == 'ip' else phone_index}" for r in velocity))
            facts["recent"] = {
                f"{r.scope}:{r.window_minutes}": selectors.recent_checks(
                    kind=check_kind, ip=ip if r.scope == "ip" else None,
                    phone_index=phone_index if r.scope == "phone" else None,
                    since=now - dt.timedelta(minutes=r.window_minutes))
                for r in velocity if (ip if r.scope == "ip" else phone_index)}
        hits = [h for h in (domain.evaluate(r.as_domain(), facts) for r in rules) if h is not None]
        hits += selectors.blacklist_hits(at=now, kind=check_kind, mobile_index=phone_index,
                                         id_number_index=secret.get("id_number_index", ""),
                                         card_index=secret.get("card_index", ""))
        blacklist_refs = selectors.blacklist_refs(at=now) if check_kind in selectors.BLACKLISTED_KINDS else []
        check = RuleCheck.objects.create(
            kind=check_kind, outcome=domain.outcome(hits), at=now, ip=ip, phone_index=phone_index,
            customer=subject if subject is not None and getattr(subject, "pk", None) else None,
            figures=_json(facts), rules=[r.ref for r in rules] + blacklist_refs, hits=[h.as_json() for h in hits])
    return CheckResult(check)


# -- rules ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class RuleInput:
    key: str
    scope: str
    action: str
    params: domain.Params
    effective_from: dt.datetime | None = None
    effective_to: dt.datetime | None = None
    note: str = ""


def _refuse(exc: domain.RuleInvalid) -> RuleRefused:
    return RuleRefused(_(exc.template) % exc.params if exc.params else _(exc.template), code=exc.field or "invalid")


def _key_lock(key: str, scope: str) -> None:
    _lock(f"risk:rule:{key}:{scope}")


def _overlap_refuse(*, key: str, scope: str, start: dt.datetime, end: dt.datetime | None, exclude=()) -> None:
    for other in RiskRule.objects.filter(key=key, scope=scope).exclude(pk__in=exclude):
        if domain.windows_overlap(start, end, other.effective_from, other.effective_to):
            raise RuleRefused(
                _("Rule #%(id)s of the same kind%(scope)s is in force from %(start)s to %(end)s, which overlaps this "
                  "window. Change or expire that rule first.") % {
                    "id": other.pk, "scope": f" ({scope})" if scope else "",
                    "start": timezone.localtime(other.effective_from).strftime("%Y-%m-%d %H:%M"),
                    "end": timezone.localtime(other.effective_to).strftime("%Y-%m-%d %H:%M")
                    if other.effective_to else _("no end")},
                code="effective_from", status=409)


def _validated(data: RuleInput, *, now: dt.datetime) -> tuple[domain.Key, dt.datetime]:
    # A rule cannot apply to the past (the checks already made did not consult it): a start
    # before now (e.g. the current minute typed into the form) means now.
    start = max(data.effective_from or now, now)
    try:
        key = domain.check_rule(key=data.key, scope=data.scope or "", action=data.action, params=data.params,
                                effective_from=start, effective_to=data.effective_to)
    except domain.RuleInvalid as exc:
        raise _refuse(exc) from exc
    if data.effective_to is not None and data.effective_to <= now:
        raise RuleRefused(_("The rule's window would end in the past; choose a later end."), code="effective_to")
    if len(data.note) > 300:
        raise RuleRefused(_("A note has at most 300 characters."), code="note")
    return key, start


def rule_create(*, operator, data: RuleInput) -> RiskRule:
    """A new rule, in force from ``effective_from`` (default now) to ``effective_to`` (default
    open). Refused when its window overlaps another rule of the same key and scope."""
    _require(operator)
    now = timezone.now()
    key, start = _validated(data, now=now)
    with transaction.atomic():
        _key_lock(key, data.scope)
        _overlap_refuse(key=key, scope=data.scope, start=start, end=data.effective_to)
        rule = RiskRule.objects.create(key=key, scope=data.scope, action=data.action, effective_from=start,
                                       effective_to=data.effective_to, note=data.note.strip(), created_by=operator,
                                       **{n: getattr(data.params, n) for n in domain.PARAM_FIELDS})
        audit_record(actor=operator, action=AuditAction.RISK_RULE_CREATE, target=rule, before=None, after=rule.snapshot())
    return rule


def _locked_rule(rule_id: int) -> RiskRule:
    rule = RiskRule.objects.select_for_update().filter(pk=rule_id).first()
    if rule is None:
        raise NotFound(_("No such rule."), code="not_found")
    return rule


def rule_change(*, operator, rule_id: int, data: RuleInput) -> RiskRule:
    """Change a rule's values. A rule not yet in force changes in place; one that has been in
    force keeps its history: it ends now and a successor with the new values starts now (checks
    already logged name the rule they used)."""
    _require(operator)
    now = timezone.now()
    with transaction.atomic():
        current = RiskRule.objects.filter(pk=rule_id).values_list("key", "scope").first()
        if current is None:
            raise NotFound(_("No such rule."), code="not_found")
        data = RuleInput(key=current[0], scope=current[1], action=data.action, params=data.params,
                         effective_from=data.effective_from, effective_to=data.effective_to, note=data.note)
        _key_lock(*current)
        rule = _locked_rule(rule_id)
        if rule.state(now) == "expired":
            raise Conflict(_("This rule has expired; create a new one instead."), code="expired")
        before = rule.snapshot()
        if rule.state(now) == "scheduled":
            key, start = _validated(data, now=now)
            _overlap_refuse(key=key, scope=rule.scope, start=start, end=data.effective_to, exclude=[rule.pk])
            for name in domain.PARAM_FIELDS:
                setattr(rule, name, getattr(data.params, name))
            rule.action, rule.effective_from, rule.effective_to, rule.note = (
                data.action, start, data.effective_to, data.note.strip())
            rule.save()
            audit_record(actor=operator, action=AuditAction.RISK_RULE_CHANGE, target=rule, before=before, after=rule.snapshot())
            return rule
        # In force: the successor starts now (a given start is ignored: the past cannot change).
        successor_data = RuleInput(key=rule.key, scope=rule.scope, action=data.action, params=data.params,
                                   effective_from=now, effective_to=data.effective_to, note=data.note)
        key, start = _validated(successor_data, now=now)
        _overlap_refuse(key=key, scope=rule.scope, start=start, end=data.effective_to, exclude=[rule.pk])
        rule.effective_to = now
        rule.save(update_fields=["effective_to"])
        successor = RiskRule.objects.create(
            key=rule.key, scope=rule.scope, action=data.action, effective_from=now, effective_to=data.effective_to,
            note=data.note.strip(), created_by=operator, replaces=rule,
            **{n: getattr(data.params, n) for n in domain.PARAM_FIELDS})
        audit_record(actor=operator, action=AuditAction.RISK_RULE_CHANGE, target=rule, before=before,
                     after={**rule.snapshot(), "successor": successor.pk})
        audit_record(actor=operator, action=AuditAction.RISK_RULE_CREATE, target=successor, before=None,
                     after={**successor.snapshot(), "replaces": rule.pk})
    return successor


def rule_expire(*, operator, rule_id: int) -> RiskRule:
    """End a rule now. A rule that has not started yet is withdrawn: its window becomes empty
    history, ending where it would have begun, is not allowed, so it is deleted (audited)."""
    _require(operator)
    now = timezone.now()
    with transaction.atomic():
        rule = _locked_rule(rule_id)
        state, before = rule.state(now), rule.snapshot()
        if state == "expired":
            raise Conflict(_("This rule has already expired."), code="expired")
        if state == "scheduled":
            audit_record(actor=operator, action=AuditAction.RISK_RULE_WITHDRAW, target=rule, before=before, after=None)
            rule.delete()
            return rule
        rule.effective_to = now
        rule.save(update_fields=["effective_to"])
        audit_record(actor=operator, action=AuditAction.RISK_RULE_EXPIRE, target=rule, before=before, after=rule.snapshot())
    return rule


# -- blacklist --------------------------------------------------------------------------------


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
    _require(operator)
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
        _lock(f"risk:blacklist:{index}")
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
    _require(operator)
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


# -- the points table -------------------------------------------------------------------------


def _band(factor: str, lower: int | None, document: str, points: int | None) -> domain.Band:
    if points is None:
        raise RuleRefused(_("Enter the points."), code="points")
    band = domain.Band(factor, 0 if factor == domain.Factor.DOCUMENT else (lower if lower is not None else -1),
                       document if factor == domain.Factor.DOCUMENT else "", points)
    try:
        domain.check_band(band, documents=[k.value for k in kyc_domain.Kind])
    except domain.RuleInvalid as exc:
        raise _refuse(exc) from exc
    return band


def score_band_save(*, operator, band_id: int | None, factor: str, lower: int | None, document: str,
                    points: int | None) -> ScoreBand:
    """Add a row to the points table (``band_id`` None) or change one; audited."""
    _require(operator)
    band = _band(factor, lower, document, points)
    with transaction.atomic():
        row = None
        if band_id is not None:
            row = ScoreBand.objects.select_for_update().filter(pk=band_id).first()
            if row is None:
                raise NotFound(_("No such row."), code="not_found")
        if ScoreBand.objects.filter(factor=band.factor, lower=band.lower, document=band.document).exclude(
                pk=getattr(row, "pk", None)).exists():
            raise RuleRefused(_("The table already has a row for this band; change that row instead."),
                              code="lower", status=409)
        before = None if row is None else {"factor": row.factor, "lower": row.lower, "document": row.document,
                                            "points": row.points}
        row = row or ScoreBand()
        row.factor, row.lower, row.document, row.points = band.factor, band.lower, band.document, band.points
        row.save()
        audit_record(actor=operator, action=AuditAction.RISK_SCORE_SAVE, target=row, before=before,
                     after={"factor": row.factor, "lower": row.lower, "document": row.document, "points": row.points})
    return row


def score_band_delete(*, operator, band_id: int) -> None:
    _require(operator)
    with transaction.atomic():
        row = ScoreBand.objects.select_for_update().filter(pk=band_id).first()
        if row is None:
            raise NotFound(_("No such row."), code="not_found")
        audit_record(actor=operator, action=AuditAction.RISK_SCORE_DELETE, target=row, after=None,
                     before={"factor": row.factor, "lower": row.lower, "document": row.document, "points": row.points})
        row.delete()


# -- subscriptions of the apps below (registered in apps.RiskConfig.ready) ---------------------


def registration_screen(*, mobile: str, ip: str | None) -> None:
    rules_check(kind=domain.CheckKind.REGISTRATION, figures={"mobile": mobile, "ip": ip}).raise_if_blocked()


def sms_screen(*, mobile: str, ip: str | None, purpose: str) -> None:
    rules_check(kind=domain.CheckKind.SMS, figures={"mobile": mobile, "ip": ip, "purpose": purpose}).raise_if_blocked()

