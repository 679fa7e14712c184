"""The rule check callers consult (``rules_check``) and its log, and the subscriptions of
the apps below (registered in ``apps.RiskConfig.ready``)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from wanxin.core.identity import mask_mobile
from wanxin.fields import blind_index

from .. import domain, selectors
from ..models import RuleCheck
from .common import RiskBlocked, advisory_lock, reason


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

    def log_again(self) -> CheckResult:
        """Write the check's row again on its own: for a caller that made the check inside its
        own transaction, which then rolled back (the action refused, for any reason) and took
        the row with it. Every check stays logged."""
        check = self.check
        check.pk = None
        check._state.adding = True
        check.save(force_insert=True)
        return self


def _json(value):
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, dict):
        return {str(k): _json(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_json(v) for v in value]
    return value


def rules_check(*, kind: str, subject=None, figures: Mapping[str, object] | None = None,
                account=None) -> CheckResult:
    """Evaluate the rules in force for ``kind`` on ``figures`` (and, for a customer ``subject``,
    their KYC and account facts), log the check with its inputs, hits and outcome, and return it.

    ``figures`` per kind (README): REGISTRATION and SMS ``mobile``, ``ip``; LOAN_APPLICATION
    ``amount``, ``loans_running``, ``credit_in_use``; BID ``amount``, ``loan_amount``,
    ``investor_holding``; ALLOCATION ``multiple``, ``amount``, ``customer_total``,
    ``platform_exposure``. Use ``.raise_if_blocked()`` to stop a blocked action.

    ``account``: the subject's depository account as the caller has just read it (not read
    again). Called inside the caller's transaction, the row is written in it, no savepoint:
    it commits with the action; if that transaction rolls back, ``.log_again()`` after it."""
    check_kind = domain.CheckKind(kind)
    now = timezone.now()
    given = dict(figures or {})
    facts: dict = {k: v for k, v in given.items() if k not in ("mobile", "id_number", "card_number")}
    secret: dict = {}
    if subject is not None and getattr(subject, "pk", None):
        more, secret = selectors.customer_facts(subject, account=account)
        facts = {**more, **facts}
    mobile = str(given.get("mobile") or secret.get("mobile") or "")
    if mobile:
        facts["mobile"] = mask_mobile(mobile)
    ip = str(given["ip"]) if given.get("ip") else None
    phone_index = blind_index(mobile) if mobile else ""
    rules = selectors.rules_in_force(at=now, kind=check_kind)
    with transaction.atomic(savepoint=False):  # a caller's transaction: the row commits with its action
        velocity = [r for r in rules if r.key in (domain.Key.REGISTRATION_VELOCITY, domain.Key.SMS_VELOCITY)]
        if velocity:
            advisory_lock(*(f"risk:{check_kind}:{r.scope}:{ip if r.scope == 'ip' else phone_index}" for r in velocity))
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


def registration_screen(*, mobile: str, ip: str | None) -> None:
    rules_check(kind=domain.CheckKind.REGISTRATION, figures={"mobile": mobile, "ip": ip}).raise_if_blocked()


def sms_screen(*, mobile: str, ip: str | None, purpose: str) -> None:
    rules_check(kind=domain.CheckKind.SMS, figures={"mobile": mobile, "ip": ip, "purpose": purpose}).raise_if_blocked()
