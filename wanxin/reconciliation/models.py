"""A reconciliation day (one business day proved against the bank's files) and the
differences it found, each with the finance officer's handling."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy


class ReconciliationDay(models.Model):
    class Status(models.TextChoices):
        # In context: other apps' "Open"/"Closed" are accounts (opened, closed), which take
        # precedence (earlier in INSTALLED_APPS).
        OPEN = "OPEN", pgettext_lazy("reconciliation day", "Open")
        CLOSED = "CLOSED", pgettext_lazy("reconciliation day", "Closed")

    date = models.DateField(unique=True)
    status = models.CharField(max_length=6, choices=Status.choices, default=Status.OPEN)
    # The files it was proved against (their sha256 as the bank signed them).
    statement_sha256 = models.CharField(max_length=64, blank=True)
    statement_rows = models.PositiveIntegerField(default=0)
    balances_sha256 = models.CharField(max_length=64, blank=True)
    balance_rows = models.PositiveIntegerField(default=0)
    matched = models.PositiveIntegerField(default=0, help_text="statement rows that agree with the platform")
    # The platform's own requests' view of PLATFORM_INCOME / PLATFORM_CAPITAL at the close: the
    # running total the next day starts from (services.requests_view).
    income_at_close = models.BigIntegerField(null=True, blank=True)
    capital_at_close = models.BigIntegerField(null=True, blank=True)
    runs = models.PositiveIntegerField(default=0)
    last_run_at = models.DateTimeField(null=True, blank=True)
    closed_at = models.DateTimeField(null=True, blank=True)
    closed_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True,
                                  related_name="+")

    class Meta:
        ordering = ["-date"]
        constraints = [models.CheckConstraint(condition=Q(status__in=["OPEN", "CLOSED"]),
                                              name="recon_day_status_valid")]

    def __str__(self) -> str:
        return f"{self.date} {self.status}"


class Difference(models.Model):
    class Kind(models.TextChoices):
        MISSING_ON_PLATFORM = "MISSING_ON_PLATFORM", _("Missing on the platform")
        MISSING_AT_BANK = "MISSING_AT_BANK", _("Missing at the bank")
        AMOUNT_DIFFERS = "AMOUNT_DIFFERS", _("Amount differs")
        STATUS_DIFFERS = "STATUS_DIFFERS", _("Status differs")
        BALANCE_DIFFERS = "BALANCE_DIFFERS", _("Balance differs")
        ALLOCATION_DIFFERS = "ALLOCATION_DIFFERS", _("Allocation freezes differ")

    class Status(models.TextChoices):
        OPEN = "OPEN", pgettext_lazy("reconciliation difference", "Open")
        RESOLVED = "RESOLVED", _("Resolved by re-query")
        EXPLAINED = "EXPLAINED", _("Explained")

    TRANSACTION_KINDS = (Kind.MISSING_ON_PLATFORM, Kind.MISSING_AT_BANK, Kind.AMOUNT_DIFFERS, Kind.STATUS_DIFFERS)

    day = models.ForeignKey(ReconciliationDay, on_delete=models.PROTECT, related_name="differences")
    kind = models.CharField(max_length=20, choices=Kind.choices)
    # A transaction difference names the request; a balance or allocation difference the account.
    request_no = models.CharField(max_length=64, blank=True)
    account = models.CharField(max_length=64, blank=True, help_text="userNo or PLATFORM_INCOME/PLATFORM_CAPITAL")
    service_name = models.CharField(max_length=32, blank=True)
    bank_amount = models.BigIntegerField(null=True, blank=True)
    platform_amount = models.BigIntegerField(null=True, blank=True)
    bank_status = models.CharField(max_length=10, blank=True)
    platform_status = models.CharField(max_length=10, blank=True)
    bank_available = models.BigIntegerField(null=True, blank=True)
    bank_frozen = models.BigIntegerField(null=True, blank=True)
    platform_available = models.BigIntegerField(null=True, blank=True)
    platform_frozen = models.BigIntegerField(null=True, blank=True)
    # An allocation difference: the customer's allocations holding freezes at the close, by
    # number (the bank's file has account totals only, so the difference is the customer's).
    # A database default, as the other levels insert their rows in SQL without it.
    allocations = models.CharField(max_length=300, blank=True, db_default="")
    status = models.CharField(max_length=9, choices=Status.choices, default=Status.OPEN)
    comment = models.TextField(blank=True)
    bank_answer = models.CharField(max_length=300, blank=True, help_text="what the last re-query returned")
    handled_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True,
                                   related_name="+")
    handled_at = models.DateTimeField(null=True, blank=True)
    found_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["kind", "request_no", "account"]
        constraints = [
            models.UniqueConstraint(fields=["day", "kind", "request_no", "account"], name="recon_difference_unique"),
            models.CheckConstraint(condition=Q(status__in=["OPEN", "RESOLVED", "EXPLAINED"]),
                                   name="recon_difference_status_valid"),
            models.CheckConstraint(condition=~Q(status="EXPLAINED") | ~Q(comment=""),
                                   name="recon_difference_explained_has_comment"),
        ]
        indexes = [models.Index(fields=["day", "status"], name="recon_difference_day_status")]

    def __str__(self) -> str:
        return f"{self.day.date} {self.kind} {self.request_no or self.account}"

    @property
    def is_transaction(self) -> bool:
        return self.kind in self.TRANSACTION_KINDS

    @property
    def is_allocation(self) -> bool:
        return self.kind == self.Kind.ALLOCATION_DIFFERS
