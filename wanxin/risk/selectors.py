"""Reads of risk control: rules in force at a moment, blacklist matches, velocity counts, the
points table and score, the check log."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from django.contrib.postgres.expressions import ArraySubquery
from django.db.models import OuterRef, Q, QuerySet
from django.utils import timezone

from wanxin.core.identity import mask_card_number, mask_id_number, mask_mobile
from wanxin.fields import blind_index
from wanxin.funds.models import DepositoryAccount
from wanxin.kyc.models import KycApplication, KycDocument

from . import domain
from .models import BlacklistEntry, RiskRule, RuleCheck, ScoreBand

# The kinds of check that consult the blacklist, and which numbers each matches.
BLACKLISTED_KINDS = {
    domain.CheckKind.REGISTRATION: ("MOBILE",),
    domain.CheckKind.LOAN_APPLICATION: ("ID_NUMBER", "MOBILE", "CARD_NUMBER"),
}


def in_force(at: dt.datetime) -> Q:
    return Q(effective_from__lte=at) & (Q(effective_to__isnull=True) | Q(effective_to__gt=at))


def rules_in_force(*, at: dt.datetime, kind: str | None = None) -> list[RiskRule]:
    """The rules whose window contains ``at`` (for the checks of ``kind``)."""
    rows = RiskRule.objects.filter(in_force(at)).order_by("key", "scope", "id")
    if kind is not None:
        rows = rows.filter(key__in=[k for k, spec in domain.SPECS.items() if spec.kind == kind])
    return list(rows)


def blacklist_hits(*, at: dt.datetime, kind: str, mobile_index: str, id_number_index: str,
                   card_index: str) -> list[domain.Hit]:
    wanted = {"MOBILE": mobile_index, "ID_NUMBER": id_number_index, "CARD_NUMBER": card_index}
    condition = Q(pk__in=[])
    for entry_kind in BLACKLISTED_KINDS.get(kind, ()):
        if wanted[entry_kind]:
            condition |= Q(kind=entry_kind, value_index=wanted[entry_kind])
    entries = BlacklistEntry.objects.filter(in_force(at)).filter(condition).order_by("id")
    return [domain.blacklist_hit(ref=e.ref, kind=e.kind, action=e.action) for e in entries]


def blacklist_refs(*, at: dt.datetime) -> list[str]:
    return ["blacklist"] if BlacklistEntry.objects.filter(in_force(at)).exists() else []


def recent_checks(*, kind: str, ip: str | None, phone_index: str | None, since: dt.datetime) -> int:
    """Checks of ``kind`` from ``ip`` (or for the phone) since ``since`` that were let through:
    the velocity rules' count (blocked attempts do not use up the allowance)."""
    rows = RuleCheck.objects.filter(kind=kind, at__gte=since).exclude(outcome=domain.BLOCK)
    rows = rows.filter(ip=ip) if ip else rows.filter(phone_index=phone_index)
    return rows.count()


def rules_by_key(*, include_expired: bool = False, at: dt.datetime) -> list[tuple[str, str, list[RiskRule]]]:
    """(key, label, rules) for every rule key, current and scheduled rules first."""
    rows = RiskRule.objects.select_related("created_by")
    if not include_expired:
        rows = rows.filter(Q(effective_to__isnull=True) | Q(effective_to__gt=at))
    by_key: dict[str, list[RiskRule]] = {k: [] for k in RiskRule.Key.values}
    for rule in rows.order_by("key", "scope", "effective_from"):
        by_key[rule.key].append(rule)
    return [(key, RiskRule.Key(key).label, by_key[key]) for key in RiskRule.Key.values]


def rule_get(rule_id: int) -> RiskRule | None:
    return RiskRule.objects.filter(pk=rule_id).first()


def blacklist(*, include_expired: bool, at: dt.datetime, value: str = "") -> QuerySet[BlacklistEntry]:
    rows = BlacklistEntry.objects.select_related("created_by")
    if not include_expired:
        rows = rows.filter(Q(effective_to__isnull=True) | Q(effective_to__gt=at))
    value = "".join(value.split()).upper()
    if value:
        rows = rows.filter(value_index=blind_index(value))
    return rows.order_by("-effective_from", "-id")


def score_bands() -> list[ScoreBand]:
    return list(ScoreBand.objects.all())


def score_of(*, income: int | None, assets: int | None, age: int | None, documents) -> tuple[int, list[domain.ScoreLine]]:
    return domain.score([b.as_domain() for b in ScoreBand.objects.all()], income=income, assets=assets, age=age,
                        documents=documents)


@dataclass(frozen=True)
class CheckFilters:
    kind: str = ""
    outcome: str = ""
    date_from: dt.date | None = None
    date_to: dt.date | None = None
    customer: str = ""


def checks(f: CheckFilters) -> QuerySet[RuleCheck]:
    rows = RuleCheck.objects.select_related("customer")
    if f.kind:
        rows = rows.filter(kind=f.kind)
    if f.outcome:
        rows = rows.filter(outcome=f.outcome)
    if f.date_from:
        rows = rows.filter(at__date__gte=f.date_from)
    if f.date_to:
        rows = rows.filter(at__date__lte=f.date_to)
    if f.customer:
        rows = rows.filter(customer__username__iexact=f.customer.strip())
    return rows.order_by("-at", "-id")


def checks_with_hits_of(customer_id: int, *, limit: int = 10) -> list[RuleCheck]:
    """A customer's latest checks that hit a rule, for the review pages."""
    return list(RuleCheck.objects.filter(customer_id=customer_id).exclude(outcome=domain.PASS)
                .order_by("-at", "-id")[:limit])


def customer_facts(customer, *, account: DepositoryAccount | None = None) -> tuple[dict, dict]:
    """What the rules need to know about a customer from the apps below (KYC, funds, accounts):
    (figures to log, sensitive values to match without logging). ``account``: the customer's
    depository account as the caller just read it (else read here)."""
    facts: dict = {"customer": customer.username}
    secret: dict = {"mobile": customer.mobile or ""}
    # The application with its documents' kinds in one statement.
    kyc = (KycApplication.objects.filter(customer_id=customer.pk)
           .annotate(document_kinds=ArraySubquery(
               KycDocument.objects.filter(application=OuterRef("pk"), removed_at__isnull=True).values("kind")))
           .first())
    if account is None or account.user_id != customer.pk:
        account = DepositoryAccount.objects.filter(user_id=customer.pk).first()
    if kyc is not None:
        facts.update(rating=kyc.rating or None, kyc_status=kyc.status, annual_income=kyc.annual_income,
                     assets=kyc.assets,
                     documents=sorted(set(kyc.document_kinds)))
        secret["id_number_index"] = kyc.id_number_index
        birth = domain.birth_date_of(kyc.id_number) if kyc.id_number else None
        facts["age"] = domain.age_on(birth, timezone.localdate()) if birth else None
        if kyc.id_number:
            facts["id_number"] = mask_id_number(kyc.id_number)
    if account is not None and account.card_number:
        secret["card_index"] = blind_index(account.card_number)
        facts["card_number"] = mask_card_number(account.card_number)
    if customer.mobile:
        facts["mobile"] = mask_mobile(customer.mobile)
    score, lines = score_of(income=facts.get("annual_income"), assets=facts.get("assets"),
                                      age=facts.get("age"), documents=facts.get("documents", []))
    facts["score"] = score
    facts["score_breakdown"] = [[line.factor, line.band, line.points] for line in lines]
    return facts, secret


def blacklist_matches(customer) -> list[domain.Hit]:
    """The blacklist entries in force now that match the customer's ID number, mobile or card."""
    _facts, secret = customer_facts(customer)
    return blacklist_hits(at=timezone.now(), kind=domain.CheckKind.LOAN_APPLICATION,
                          mobile_index=blind_index(secret["mobile"]) if secret.get("mobile") else "",
                          id_number_index=secret.get("id_number_index", ""), card_index=secret.get("card_index", ""))
