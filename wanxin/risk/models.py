"""Risk rules with effective dates, the blacklist, the borrower score's points table and the
log of every rule check."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from wanxin.core.identity import mask_card_number, mask_id_number, mask_mobile
from wanxin.fields import EncryptedTextField

from . import domain


class Action(models.TextChoices):
    BLOCK = domain.BLOCK, _("Block")
    WARN = domain.WARN, _("Warn")


class Windowed(models.Model):
    """In force at a moment when ``effective_from <= moment < effective_to`` (open-ended: no end)."""

    effective_from = models.DateTimeField(default=timezone.now)
    effective_to = models.DateTimeField(null=True, blank=True)
    action = models.CharField(max_length=5, choices=Action.choices, default=Action.BLOCK)
    note = models.CharField(max_length=300, blank=True, default="")
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        abstract = True

    def state(self, now=None) -> str:
        now = now or timezone.now()
        if self.effective_from > now:
            return "scheduled"
        if self.effective_to is not None and self.effective_to <= now:
            return "expired"
        return "in_force"

    @property
    def state_label(self) -> str:
        return {"scheduled": _("Scheduled"), "expired": _("Expired"), "in_force": _("In force")}[self.state()]


class RiskRule(Windowed):
    class Key(models.TextChoices):
        BORROW_LIMIT = domain.Key.BORROW_LIMIT, _("Borrowing limit by credit rating")
        CONCURRENT_LOANS = domain.Key.CONCURRENT_LOANS, _("Most concurrent loans per borrower")
        MIN_SCORE = domain.Key.MIN_SCORE, _("Lowest borrower score")
        AGE = domain.Key.AGE, _("Borrower age limits")
        INVESTOR_SHARE = domain.Key.INVESTOR_SHARE, _("Largest share of one loan per investor")
        REGISTRATION_VELOCITY = domain.Key.REGISTRATION_VELOCITY, _("Registrations per window")
        SMS_VELOCITY = domain.Key.SMS_VELOCITY, _("Text messages per window")
        ALLOCATION_MULTIPLE = domain.Key.ALLOCATION_MULTIPLE, _("Largest allocation multiple by credit rating")
        ALLOCATION_PER_CUSTOMER = domain.Key.ALLOCATION_PER_CUSTOMER, _("Largest allocation per customer")
        ALLOCATION_EXPOSURE = domain.Key.ALLOCATION_EXPOSURE, _("Total allocation exposure")

    key = models.CharField(max_length=32, choices=Key.choices)
    scope = models.CharField(max_length=8, blank=True, default="", help_text="credit rating, or ip / phone")
    amount = models.BigIntegerField(null=True, blank=True, help_text="fen")
    count = models.IntegerField(null=True, blank=True)
    percent = models.DecimalField(max_digits=9, decimal_places=4, null=True, blank=True)
    multiple = models.DecimalField(max_digits=9, decimal_places=4, null=True, blank=True)
    window_minutes = models.IntegerField(null=True, blank=True)
    min_age = models.SmallIntegerField(null=True, blank=True)
    max_age = models.SmallIntegerField(null=True, blank=True)
    # The rule this one replaced when an officer changed a rule already in force.
    replaces = models.ForeignKey("self", on_delete=models.PROTECT, null=True, blank=True, related_name="+")

    class Meta:
        ordering = ["key", "scope", "-effective_from"]
        indexes = [models.Index(fields=["key", "scope", "effective_from"], name="risk_rule_key_from")]
        constraints = [
            models.CheckConstraint(condition=Q(effective_to__isnull=True) | Q(effective_to__gt=models.F("effective_from")),
                                   name="risk_rule_window_forward"),
            models.CheckConstraint(condition=Q(amount__isnull=True) | Q(amount__gte=0), name="risk_rule_amount_not_negative"),
            models.CheckConstraint(condition=Q(count__isnull=True) | Q(count__gte=0), name="risk_rule_count_not_negative"),
            models.CheckConstraint(condition=Q(percent__isnull=True) | (Q(percent__gt=0) & Q(percent__lte=100)),
                                   name="risk_rule_percent_range"),
            models.CheckConstraint(condition=Q(multiple__isnull=True) | Q(multiple__gt=0), name="risk_rule_multiple_positive"),
            models.CheckConstraint(condition=Q(min_age__isnull=True) | Q(max_age__isnull=True) | Q(min_age__lte=models.F("max_age")),
                                   name="risk_rule_ages_ordered"),
        ]

    def __str__(self) -> str:
        return f"{self.key} {self.scope} #{self.pk}"

    @property
    def ref(self) -> str:
        return f"rule:{self.pk}"

    def params(self) -> domain.Params:
        return domain.Params(**{name: getattr(self, name) for name in domain.PARAM_FIELDS})

    def as_domain(self) -> domain.Rule:
        return domain.Rule(self.ref, self.key, self.scope, self.action, self.params())

    def snapshot(self) -> dict:
        return {"key": self.key, "scope": self.scope, "action": self.action,
                **{name: str(getattr(self, name)) for name in domain.PARAM_FIELDS if getattr(self, name) is not None},
                "effective_from": self.effective_from.isoformat(),
                "effective_to": self.effective_to.isoformat() if self.effective_to else None}


class BlacklistEntry(Windowed):
    class Kind(models.TextChoices):
        ID_NUMBER = "ID_NUMBER", _("ID number")
        MOBILE = "MOBILE", _("Mobile number")
        CARD_NUMBER = "CARD_NUMBER", _("Bank card number")

    kind = models.CharField(max_length=12, choices=Kind.choices)
    # Encrypted at rest; the keyed blind index (the same as kyc's and funds') finds it.
    value = EncryptedTextField()
    value_index = models.CharField(max_length=64, db_index=True)

    class Meta:
        ordering = ["-created_at"]
        verbose_name_plural = "blacklist entries"
        constraints = [
            models.CheckConstraint(condition=Q(effective_to__isnull=True) | Q(effective_to__gt=models.F("effective_from")),
                                   name="risk_blacklist_window_forward"),
            models.CheckConstraint(condition=Q(kind__in=["ID_NUMBER", "MOBILE", "CARD_NUMBER"]), name="risk_blacklist_kind_known"),
        ]

    def __str__(self) -> str:
        return f"{self.kind} #{self.pk}"

    @property
    def ref(self) -> str:
        return f"blacklist:{self.pk}"

    @property
    def masked(self) -> str:
        mask = {"ID_NUMBER": mask_id_number, "MOBILE": mask_mobile, "CARD_NUMBER": mask_card_number}[self.kind]
        return mask(self.value)


class ScoreBand(models.Model):
    """One row of the borrower score's points table (see ``domain.score``)."""

    class Factor(models.TextChoices):
        INCOME = domain.Factor.INCOME, _("Annual income")
        ASSETS = domain.Factor.ASSETS, _("Assets")
        AGE = domain.Factor.AGE, _("Age")
        DOCUMENT = domain.Factor.DOCUMENT, _("Document held")

    factor = models.CharField(max_length=10, choices=Factor.choices)
    lower = models.BigIntegerField(default=0, help_text="fen for income and assets, years for age")
    document = models.CharField(max_length=20, blank=True, default="")
    points = models.SmallIntegerField()
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["factor", "lower", "document"]
        constraints = [
            models.UniqueConstraint(fields=["factor", "lower", "document"], name="risk_score_band_unique"),
            models.CheckConstraint(condition=Q(points__gte=-domain.MAX_POINTS) & Q(points__lte=domain.MAX_POINTS),
                                   name="risk_score_points_range"),
            models.CheckConstraint(condition=Q(lower__gte=0), name="risk_score_lower_not_negative"),
        ]

    def __str__(self) -> str:
        return f"{self.factor} {self.lower or self.document}: {self.points}"

    def as_domain(self) -> domain.Band:
        return domain.Band(self.factor, self.lower, self.document, self.points)


class RuleCheck(models.Model):
    """One check of the rules: its kind, subject, inputs (personal numbers masked), the rules in
    force it evaluated, the hits and the outcome. Written for every check, passed or not."""

    class Kind(models.TextChoices):
        REGISTRATION = domain.CheckKind.REGISTRATION, _("Registration")
        SMS = domain.CheckKind.SMS, _("Text message")
        LOAN_APPLICATION = domain.CheckKind.LOAN_APPLICATION, _("Loan application")
        BID = domain.CheckKind.BID, _("Bid")
        ALLOCATION = domain.CheckKind.ALLOCATION, _("Stock allocation")

    class Outcome(models.TextChoices):
        PASS = domain.PASS, _("Passed")
        WARN = domain.WARN, _("Warned")
        BLOCK = domain.BLOCK, _("Blocked")

    kind = models.CharField(max_length=20, choices=Kind.choices)
    outcome = models.CharField(max_length=5, choices=Outcome.choices)
    customer = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True,
                                 related_name="+")
    # For the velocity rules: the client address and the phone's blind index.
    ip = models.GenericIPAddressField(null=True, blank=True)
    phone_index = models.CharField(max_length=64, blank=True, default="")
    figures = models.JSONField(default=dict)
    rules = models.JSONField(default=list, help_text="refs of the rules in force that were evaluated")
    hits = models.JSONField(default=list)
    at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-at", "-id"]
        indexes = [
            models.Index(fields=["kind", "ip", "at"], name="risk_check_ip"),
            models.Index(fields=["kind", "phone_index", "at"], name="risk_check_phone"),
            models.Index(fields=["customer", "at"], name="risk_check_customer"),
            models.Index(fields=["outcome", "at"], name="risk_check_outcome"),
        ]
        constraints = [models.CheckConstraint(condition=Q(outcome__in=["PASS", "WARN", "BLOCK"]),
                                              name="risk_check_outcome_known")]

    def __str__(self) -> str:
        return f"{self.kind} {self.outcome} #{self.pk}"
