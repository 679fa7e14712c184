"""Repayment plans (the borrower's periods), receivable plans (each investor tender's share
of each period) and repayments (one attempt to pay one or more periods through the bank:
a REPAYMENT freeze, then CONFIRM_REPAYMENT, or CANCEL_PRE_TRANSACTION when it fails).

The schedule arithmetic is in ``domain.py``; these rows hold its result in integer fen."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

DUE, OVERDUE, REPAID, RECEIVED = "DUE", "OVERDUE", "REPAID", "RECEIVED"
PLAN_STATUSES = (DUE, OVERDUE, REPAID)
# DESIGN §6: DUE → (REPAID | OVERDUE → REPAID). Receivables follow their period.
PLAN_MOVES: dict[str, frozenset[str]] = {
    DUE: frozenset({REPAID, OVERDUE}),
    OVERDUE: frozenset({REPAID}),
    REPAID: frozenset(),
}
RECEIVABLE_STATUSES = (DUE, OVERDUE, RECEIVED)

FREEZING, CONFIRMING, CANCELLING, DONE, FAILED = "FREEZING", "CONFIRMING", "CANCELLING", "DONE", "FAILED"
REPAYMENT_STATUSES = (FREEZING, CONFIRMING, CANCELLING, DONE, FAILED)
REPAYMENT_MOVES: dict[str, frozenset[str]] = {
    FREEZING: frozenset({CONFIRMING, FAILED}),
    CONFIRMING: frozenset({DONE, CANCELLING}),
    CANCELLING: frozenset({FAILED}),
    DONE: frozenset(),
    FAILED: frozenset(),
}
PERIOD, PREPAY = "PERIOD", "PREPAY"
# What people read for the codes (the API keeps the codes).
STATUS_LABELS = {
    DUE: _("Due"), OVERDUE: _("Overdue"), REPAID: _("Repaid"), RECEIVED: _("Received"),
    FREEZING: _("Freezing"), CONFIRMING: _("Confirming"), CANCELLING: _("Cancelling"), DONE: _("Done"),
    FAILED: _("Failed"),
}


class Repayment(models.Model):
    """One attempt to repay: the borrower's REPAYMENT freeze of ``total``, then the
    CONFIRM_REPAYMENT that pays ``details`` to the investors and ``commission`` to the
    platform. ``total = principal + interest + penalty + fee``."""

    project = models.ForeignKey("lending.Project", on_delete=models.PROTECT, related_name="repayments")
    borrower = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    kind = models.CharField(max_length=8, default=PERIOD, choices=[(PERIOD, _("Period")), (PREPAY, _("Prepayment"))])
    status = models.CharField(max_length=10, default=FREEZING, choices=[(s, STATUS_LABELS[s]) for s in REPAYMENT_STATUSES])
    auto = models.BooleanField(default=False)
    request_no = models.CharField(max_length=64, unique=True, help_text="the USER_PRE_TRANSACTION (REPAYMENT)")
    confirm_request_no = models.CharField(max_length=64, blank=True)
    cancel_request_no = models.CharField(max_length=64, blank=True)
    principal = models.BigIntegerField()
    interest = models.BigIntegerField()
    penalty = models.BigIntegerField(default=0)
    fee = models.BigIntegerField(default=0)
    commission = models.BigIntegerField(help_text="to PLATFORM_INCOME: interest margin + penalty + fee")
    total = models.BigIntegerField()
    # [{"userNo", "principal", "interest", "commission", "receivables": {id: [principal, interest]}}]
    details = models.JSONField(default=list)
    fail_reason = models.CharField(max_length=300, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [
            models.CheckConstraint(condition=Q(principal__gte=0) & Q(interest__gte=0) & Q(penalty__gte=0)
                                   & Q(fee__gte=0) & Q(commission__gte=0) & Q(total__gt=0),
                                   name="repayments_repayment_amounts"),
            models.CheckConstraint(condition=Q(status__in=REPAYMENT_STATUSES), name="repayments_repayment_status"),
            models.UniqueConstraint(fields=["confirm_request_no"], condition=~Q(confirm_request_no=""),
                                    name="repayments_repayment_confirm_unique"),
            models.UniqueConstraint(fields=["cancel_request_no"], condition=~Q(cancel_request_no=""),
                                    name="repayments_repayment_cancel_unique"),
        ]


class RepaymentPlan(models.Model):
    """One period the borrower owes. ``repayment`` is the attempt in flight (at most one:
    set by a conditional UPDATE); ``penalty`` is the penalty interest accrued to date."""

    project = models.ForeignKey("lending.Project", on_delete=models.PROTECT, related_name="repayment_plans")
    borrower = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="repayment_plans")
    number = models.PositiveSmallIntegerField()
    due_date = models.DateField()
    principal = models.BigIntegerField()
    interest = models.BigIntegerField()
    platform_share = models.BigIntegerField(help_text="interest − what the investors receive of it")
    penalty = models.BigIntegerField(default=0)
    status = models.CharField(max_length=8, default=DUE, choices=[(s, STATUS_LABELS[s]) for s in PLAN_STATUSES])
    repayment = models.ForeignKey(Repayment, on_delete=models.PROTECT, null=True, blank=True, related_name="plans")
    paid_amount = models.BigIntegerField(default=0)
    repaid_at = models.DateTimeField(null=True, blank=True)
    reminded_on = models.DateField(null=True, blank=True)

    class Meta:
        ordering = ["project_id", "number"]
        constraints = [
            models.UniqueConstraint(fields=["project", "number"], name="repayments_plan_period_unique"),
            models.CheckConstraint(condition=Q(principal__gte=0) & Q(interest__gte=0) & Q(penalty__gte=0)
                                   & Q(platform_share__gte=0) & Q(platform_share__lte=models.F("interest"))
                                   & Q(paid_amount__gte=0), name="repayments_plan_amounts"),
            models.CheckConstraint(condition=Q(status__in=PLAN_STATUSES), name="repayments_plan_status"),
        ]
        indexes = [models.Index(fields=["status", "due_date"], name="repayments_plan_status_due")]

    @property
    def amount(self) -> int:
        return self.principal + self.interest

    @property
    def owed(self) -> int:
        return self.principal + self.interest + self.penalty


class ReceivablePlan(models.Model):
    """One investor tender's share of one period, at the investor rate."""

    plan = models.ForeignKey(RepaymentPlan, on_delete=models.PROTECT, related_name="receivables")
    tender = models.ForeignKey("lending.Tender", on_delete=models.PROTECT, related_name="receivables")
    investor = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="receivables")
    number = models.PositiveSmallIntegerField()
    due_date = models.DateField()
    principal = models.BigIntegerField()
    interest = models.BigIntegerField()
    status = models.CharField(max_length=8, default=DUE, choices=[(s, STATUS_LABELS[s]) for s in RECEIVABLE_STATUSES])
    received_amount = models.BigIntegerField(default=0)
    received_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["due_date", "pk"]
        constraints = [
            models.UniqueConstraint(fields=["plan", "tender"], name="repayments_receivable_unique"),
            models.CheckConstraint(condition=Q(principal__gte=0) & Q(interest__gte=0) & Q(received_amount__gte=0),
                                   name="repayments_receivable_amounts"),
            models.CheckConstraint(condition=Q(status__in=RECEIVABLE_STATUSES), name="repayments_receivable_status"),
        ]
        indexes = [models.Index(fields=["investor", "status", "due_date"], name="repayments_recv_inv")]

    @property
    def amount(self) -> int:
        return self.principal + self.interest
