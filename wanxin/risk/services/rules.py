"""Risk officers' changes to the rules: create, change (a rule that has been in force keeps
its history and gets a successor) and expire."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from wanxin.audit.actions import AuditAction
from wanxin.audit.log import audit_record
from wanxin.core.errors import Conflict, NotFound

from .. import domain
from ..models import RiskRule
from .common import RuleRefused, advisory_lock, refusal, require_officer


@dataclass(frozen=True)
class RuleInput:
    key: str
    scope: str
    action: str
    params: domain.Params
    effective_from: dt.datetime | None = None
    effective_to: dt.datetime | None = None
    note: str = ""


def _key_lock(key: str, scope: str) -> None:
    advisory_lock(f"risk:rule:{key}:{scope}")


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
        raise refusal(exc) from exc
    if data.effective_to is not None and data.effective_to <= now:
        raise RuleRefused(_("The rule's window would end in the past; choose a later end."), code="effective_to")
    if len(data.note) > 300:
        raise RuleRefused(_("A note has at most 300 characters."), code="note")
    return key, start


def rule_create(*, operator, data: RuleInput) -> RiskRule:
    """A new rule, in force from ``effective_from`` (default now) to ``effective_to`` (default
    open). Refused when its window overlaps another rule of the same key and scope."""
    require_officer(operator)
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
    require_officer(operator)
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
    require_officer(operator)
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
