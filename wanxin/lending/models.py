"""Loan products, applications, projects (标的), tenders and disbursement proposals."""

from __future__ import annotations

from decimal import Decimal

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from . import domain

_status_q = Q(status__in=domain.PROJECT_STATUSES)


class LoanProduct(models.Model):
    """Defaults a reviewer starts from, and the limits of an application."""

    code = models.CharField(max_length=20, unique=True)
    name = models.CharField(max_length=60)
    borrower_rate = models.DecimalField(max_digits=9, decimal_places=6, default=Decimal("0.120000"))
    investor_rate = models.DecimalField(max_digits=9, decimal_places=6, default=Decimal("0.100000"))
    service_fee_rate = models.DecimalField(max_digits=9, decimal_places=6, default=Decimal("0.020000"))
    window_days = models.PositiveSmallIntegerField(default=7)
    min_investment = models.BigIntegerField(default=100_00)
    increment = models.BigIntegerField(default=100_00)
    per_investor_cap = models.BigIntegerField(default=100_000_00)
    min_amount = models.BigIntegerField(default=1_000_00)
    max_amount = models.BigIntegerField(default=1_000_000_00)
    amount_step = models.BigIntegerField(default=100_00)
    min_months = models.PositiveSmallIntegerField(default=1)
    max_months = models.PositiveSmallIntegerField(default=36)

    def __str__(self) -> str:
        return self.name

    def limits(self) -> domain.ProductLimits:
        return domain.ProductLimits(min_amount=self.min_amount, max_amount=self.max_amount,
                                    amount_step=self.amount_step, min_months=self.min_months,
                                    max_months=self.max_months)


class LoanApplication(models.Model):
    """What the borrower asked for; its project carries the review and the money."""

    borrower = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="loan_applications")
    product = models.ForeignKey(LoanProduct, on_delete=models.PROTECT)
    amount = models.BigIntegerField()
    months = models.PositiveSmallIntegerField()
    method = models.CharField(max_length=20, choices=[(m, domain.METHOD_LABELS[m]) for m in domain.METHODS])
    purpose = models.CharField(max_length=100)
    description = models.TextField(blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [models.CheckConstraint(condition=Q(amount__gt=0), name="lending_application_amount_positive")]


class Project(models.Model):
    # (name, (value, label)): the stored value is the code, e.g. PENDING_REVIEW / "Pending Review".
    class Status(models.TextChoices):
        DRAFT = domain.DRAFT, _("Draft")
        PENDING_REVIEW = domain.PENDING_REVIEW, _("Pending Review")
        REJECTED = domain.REJECTED, _("Rejected")
        COLLECTING = domain.COLLECTING, _("Collecting")
        FULL = domain.FULL, _("Full")
        MISCARRIED = domain.MISCARRIED, _("Miscarried")
        REPAYING = domain.REPAYING, _("Repaying")
        FINISHED = domain.FINISHED, _("Finished")

    application = models.OneToOneField(LoanApplication, on_delete=models.PROTECT, related_name="project")
    borrower = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="loan_projects")
    project_no = models.CharField(max_length=40, unique=True)
    name = models.CharField(max_length=100)
    description = models.TextField(blank=True)
    amount = models.BigIntegerField()
    months = models.PositiveSmallIntegerField()
    method = models.CharField(max_length=20)
    status = models.CharField(max_length=16, choices=Status.choices, default=domain.DRAFT)
    # The bank's view of the project, from MODIFY_PROJECT / CREATE_PROJECT results.
    bank_status = models.CharField(max_length=16, blank=True)
    # Terms set at review.
    borrower_rate = models.DecimalField(max_digits=9, decimal_places=6, null=True, blank=True)
    investor_rate = models.DecimalField(max_digits=9, decimal_places=6, null=True, blank=True)
    service_fee_rate = models.DecimalField(max_digits=9, decimal_places=6, null=True, blank=True)
    window_days = models.PositiveSmallIntegerField(null=True, blank=True)
    min_investment = models.BigIntegerField(null=True, blank=True)
    increment = models.BigIntegerField(null=True, blank=True)
    per_investor_cap = models.BigIntegerField(null=True, blank=True)
    reviewed_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True,
                                    related_name="+")
    reviewed_at = models.DateTimeField(null=True, blank=True)
    review_reason = models.CharField(max_length=300, blank=True)
    create_request_no = models.CharField(max_length=64, blank=True)
    bank_error = models.CharField(max_length=300, blank=True)
    # Money: ``raised`` is reserved (pending + frozen tenders); ``frozen_amount`` is confirmed
    # frozen at the bank. raised ≤ amount is enforced by the database as well as by the
    # conditional UPDATE that reserves a bid.
    raised = models.BigIntegerField(default=0)
    frozen_amount = models.BigIntegerField(default=0)
    collect_until = models.DateTimeField(null=True, blank=True)
    published_at = models.DateTimeField(null=True, blank=True)
    full_at = models.DateTimeField(null=True, blank=True)
    miscarried_at = models.DateTimeField(null=True, blank=True)
    miscarry_reason = models.CharField(max_length=300, blank=True)
    loaned_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [
            models.CheckConstraint(condition=Q(amount__gt=0), name="lending_project_amount_positive"),
            models.CheckConstraint(condition=Q(raised__gte=0) & Q(raised__lte=models.F("amount")),
                                   name="lending_project_raised_within_amount"),
            models.CheckConstraint(condition=Q(frozen_amount__gte=0) & Q(frozen_amount__lte=models.F("amount")),
                                   name="lending_project_frozen_within_amount"),
            models.CheckConstraint(condition=_status_q, name="lending_project_status_known"),
            models.CheckConstraint(
                condition=Q(investor_rate__isnull=True) | Q(investor_rate__lte=models.F("borrower_rate")),
                name="lending_project_investor_rate_not_above_borrower"),
            # One open application per borrower, whatever the concurrency.
            models.UniqueConstraint(fields=["borrower"], condition=Q(status__in=domain.OPEN_STATUSES),
                                    name="lending_one_open_project_per_borrower"),
        ]
        indexes = [models.Index(fields=["status", "-published_at"], name="lending_project_status_pub")]

    def __str__(self) -> str:
        return f"{self.project_no} {self.status}"

    @property
    def remaining(self) -> int:
        return self.amount - self.raised

    @property
    def progress_percent(self) -> int:
        return self.raised * 100 // self.amount if self.amount else 0


class Tender(models.Model):
    class Status(models.TextChoices):
        PENDING = domain.T_PENDING, _("Pending")
        FROZEN = domain.T_FROZEN, _("Frozen")
        LOANED = domain.T_LOANED, _("Loaned")
        REFUNDED = domain.T_REFUNDED, _("Refunded")
        FAILED = domain.T_FAILED, _("Failed")

    project = models.ForeignKey(Project, on_delete=models.PROTECT, related_name="tenders")
    investor = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="tenders")
    amount = models.BigIntegerField()
    status = models.CharField(max_length=10, choices=Status.choices, default=domain.T_PENDING)
    request_no = models.CharField(max_length=64, unique=True, help_text="the USER_PRE_TRANSACTION (freeze)")
    cancel_request_no = models.CharField(max_length=64, blank=True, help_text="the CANCEL_PRE_TRANSACTION")
    fail_reason = models.CharField(max_length=300, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [
            models.CheckConstraint(condition=Q(amount__gt=0), name="lending_tender_amount_positive"),
            models.CheckConstraint(condition=Q(status__in=domain.TENDER_STATUSES), name="lending_tender_status_known"),
            models.UniqueConstraint(fields=["cancel_request_no"], condition=~Q(cancel_request_no=""),
                                    name="lending_tender_cancel_unique"),
        ]
        indexes = [models.Index(fields=["project", "investor", "status"], name="lending_tender_proj_inv")]


class Disbursement(models.Model):
    """Maker-checker: a loan reviewer proposes, a different finance officer approves."""

    class Status(models.TextChoices):
        PROPOSED = "PROPOSED", _("Proposed")
        SENT = "SENT", _("Approved, at the bank")
        DONE = "DONE", _("Done")
        FAILED = "FAILED", _("Failed")
        REJECTED = "REJECTED", _("Rejected")
        CANCELLED = "CANCELLED", _("Cancelled")

    project = models.ForeignKey(Project, on_delete=models.PROTECT, related_name="disbursements")
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.PROPOSED)
    commission = models.BigIntegerField()
    proposed_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    approved_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True,
                                    related_name="+")
    request_no = models.CharField(max_length=64, blank=True)
    note = models.CharField(max_length=300, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    decided_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [
            models.CheckConstraint(condition=Q(commission__gte=0), name="lending_disbursement_commission"),
            models.UniqueConstraint(fields=["project"], condition=Q(status__in=["PROPOSED", "SENT", "DONE"]),
                                    name="lending_one_live_disbursement"),
            models.CheckConstraint(condition=Q(approved_by__isnull=True) | ~Q(approved_by=models.F("proposed_by")),
                                   name="lending_disbursement_four_eyes"),
        ]

    @property
    def borrower_receives(self) -> int:
        """What CONFIRM_LOAN leaves the borrower: the loan less the service fee (fen)."""
        return self.project.amount - self.commission
