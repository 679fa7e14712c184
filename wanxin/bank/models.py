"""The bank's records. Balances are changed only by single conditional SQL statements
(see ``ledger.py``); the CHECK constraints here make an overdraft impossible even for
code that forgets to ask."""

from __future__ import annotations

from django.db import models
from django.db.models import F, Q
from django.utils.translation import gettext_lazy as _

from wanxin.core.money import format_fen


class Account(models.Model):
    class Kind(models.TextChoices):
        CUSTOMER = "CUSTOMER", _("Customer")
        PLATFORM_INCOME = "PLATFORM_INCOME", _("Platform Income")
        PLATFORM_CAPITAL = "PLATFORM_CAPITAL", _("Platform Capital")
        CARD_NETWORK = "CARD_NETWORK", _("Card Network")  # the outside world's edge: may go negative

    class Status(models.TextChoices):
        OPEN = "OPEN", _("Open")
        CLOSED = "CLOSED", _("Closed")

    platform_no = models.CharField(max_length=32)
    account_no = models.CharField(max_length=64)
    kind = models.CharField(max_length=20, choices=Kind.choices)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.OPEN)
    available = models.BigIntegerField(default=0)
    frozen = models.BigIntegerField(default=0)
    # Customer particulars (the bank's own copy; the platform never reads them from here).
    full_name = models.CharField(max_length=50, blank=True)
    id_number = models.CharField(max_length=18, blank=True)
    mobile = models.CharField(max_length=11, blank=True)
    role = models.CharField(max_length=10, blank=True)
    auth_list = models.JSONField(default=list, blank=True)
    trade_password = models.CharField(max_length=200, blank=True)
    failed_password_count = models.PositiveSmallIntegerField(default=0)
    locked_until = models.DateTimeField(null=True, blank=True)
    opened_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["platform_no", "account_no"], name="bank_account_unique_no"),
            models.UniqueConstraint(
                fields=["platform_no", "id_number"], condition=Q(kind="CUSTOMER"), name="bank_account_unique_id_number"
            ),
            models.CheckConstraint(
                condition=Q(kind="CARD_NETWORK") | Q(available__gte=0), name="bank_account_no_overdraft"
            ),
            models.CheckConstraint(condition=Q(frozen__gte=0), name="bank_account_frozen_nonneg"),
        ]

    def __str__(self) -> str:
        return f"{self.platform_no}/{self.account_no}"


class BankCard(models.Model):
    """A bound card with a simulated balance at the card network (the edge we fake)."""

    account = models.OneToOneField(Account, on_delete=models.PROTECT, related_name="card")
    bank_code = models.CharField(max_length=10)
    card_number = models.CharField(max_length=19)
    balance = models.BigIntegerField()

    class Meta:
        constraints = [models.CheckConstraint(condition=Q(balance__gte=0), name="bank_card_balance_nonneg")]

    def __str__(self) -> str:
        return self.masked_number

    @property
    def masked_number(self) -> str:
        return f"{self.card_number[:4]} **** **** {self.card_number[-4:]}"


class BankRequest(models.Model):
    """Every request the bank recorded, keyed by (platformNo, requestNo) for ever."""

    class Status(models.TextChoices):
        PROCESSING = "PROCESSING", _("Processing")
        SUCCESS = "SUCCESS", _("Success")
        FAIL = "FAIL", _("Fail")

    platform_no = models.CharField(max_length=32)
    request_no = models.CharField(max_length=64)
    service_name = models.CharField(max_length=32)
    digest = models.CharField(max_length=64)
    req_data = models.JSONField()
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.PROCESSING)
    resp_code = models.CharField(max_length=5, blank=True)
    response = models.JSONField(null=True, blank=True)
    # Statement columns (PROTOCOL §6), filled when the request moved or froze money.
    biz_type = models.CharField(max_length=32, blank=True)
    user_no = models.CharField(max_length=64, blank=True)
    counterparty = models.CharField(max_length=64, blank=True)
    amount = models.BigIntegerField(null=True, blank=True)
    commission = models.BigIntegerField(null=True, blank=True)
    moved_money = models.BooleanField(default=False)
    created_at = models.DateTimeField(auto_now_add=True)
    finished_at = models.DateTimeField(null=True, blank=True, db_index=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["platform_no", "request_no"], name="bank_request_unique_no")
        ]
        indexes = [models.Index(fields=["status", "created_at"], name="bank_req_status_created")]

    def __str__(self) -> str:
        return f"{self.service_name} {self.request_no}"


class Project(models.Model):
    platform_no = models.CharField(max_length=32)
    project_no = models.CharField(max_length=64)
    borrower = models.ForeignKey(Account, on_delete=models.PROTECT, related_name="projects")
    amount = models.BigIntegerField()
    annual_rate = models.DecimalField(max_digits=9, decimal_places=6)
    periods = models.PositiveIntegerField()
    repayment_method = models.CharField(max_length=20)
    name = models.CharField(max_length=100)
    status = models.CharField(max_length=12, default="COLLECTING")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["platform_no", "project_no"], name="bank_project_unique_no"),
            models.CheckConstraint(condition=Q(amount__gt=0), name="bank_project_amount_pos"),
        ]

    def __str__(self) -> str:
        return f"{self.project_no} {self.name}"


class Freeze(models.Model):
    """A pending transfer: amount and owner never change; it is posted (wholly or in
    parts) or voided. ``remaining`` tracks that progress and cannot go below zero."""

    class Status(models.TextChoices):
        FROZEN = "FROZEN", _("Frozen")
        POSTED = "POSTED", _("Posted")
        VOIDED = "VOIDED", _("Voided")

    request = models.OneToOneField(BankRequest, on_delete=models.PROTECT, related_name="freeze")
    account = models.ForeignKey(Account, on_delete=models.PROTECT, related_name="freezes")
    biz_type = models.CharField(max_length=16)
    project_no = models.CharField(max_length=64, blank=True)
    amount = models.BigIntegerField()
    remaining = models.BigIntegerField()
    status = models.CharField(max_length=8, choices=Status.choices, default=Status.FROZEN)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.CheckConstraint(condition=Q(amount__gt=0), name="bank_freeze_amount_pos"),
            models.CheckConstraint(
                condition=Q(remaining__gte=0) & Q(remaining__lte=F("amount")), name="bank_freeze_remaining_range"
            ),
        ]

    def __str__(self) -> str:
        # What the staff console names it by (not "Freeze object (6)"): its request and money.
        return f"{self.biz_type} {format_fen(self.amount)} · {self.request.request_no}"


class Transfer(models.Model):
    """An immutable movement of money between two accounts."""

    request = models.ForeignKey(BankRequest, on_delete=models.PROTECT, related_name="transfers")
    debit = models.ForeignKey(Account, on_delete=models.PROTECT, related_name="+")
    credit = models.ForeignKey(Account, on_delete=models.PROTECT, related_name="+")
    amount = models.BigIntegerField()
    freeze = models.ForeignKey(Freeze, on_delete=models.PROTECT, null=True, blank=True, related_name="postings")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.CheckConstraint(condition=Q(amount__gt=0), name="bank_transfer_amount_pos"),
            models.CheckConstraint(condition=~Q(debit=F("credit")), name="bank_transfer_distinct_accounts"),
        ]

    def __str__(self) -> str:
        return f"{format_fen(self.amount)} {self.debit_id} → {self.credit_id}"


class BalanceChange(models.Model):
    """The net change one request made to one account, with the balance after it.

    Replaying an account's rows in id order reproduces its balance exactly."""

    account = models.ForeignKey(Account, on_delete=models.PROTECT, related_name="changes")
    request = models.ForeignKey(BankRequest, on_delete=models.PROTECT, related_name="+")
    delta_available = models.BigIntegerField()
    delta_frozen = models.BigIntegerField()
    available_after = models.BigIntegerField()
    frozen_after = models.BigIntegerField()
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        indexes = [models.Index(fields=["account", "id"], name="bank_change_account_id")]

    def __str__(self) -> str:
        return f"{format_fen(self.delta_available)} / {format_fen(self.delta_frozen)}"


class Notification(models.Model):
    """Outbox of signed notifications to a platform's notifyUrl."""

    class Status(models.TextChoices):
        PENDING = "PENDING", _("Pending")
        DELIVERED = "DELIVERED", _("Delivered")
        ABANDONED = "ABANDONED", _("Abandoned")

    platform_no = models.CharField(max_length=32)
    request_no = models.CharField(max_length=64)
    body = models.JSONField()
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.PENDING)
    attempts = models.PositiveIntegerField(default=0)
    next_attempt_at = models.DateTimeField()
    last_error = models.TextField(blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    delivered_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        indexes = [models.Index(fields=["status", "next_attempt_at"], name="bank_notify_due")]

    def __str__(self) -> str:
        return f"{self.platform_no} {self.request_no}"


class Statement(models.Model):
    """A closed business day's statement or balance file (PROTOCOL §6); never edited once
    written."""

    class Kind(models.TextChoices):
        TRANSACTIONS = "TRANSACTIONS"
        BALANCES = "BALANCES"

    platform_no = models.CharField(max_length=32)
    date = models.DateField()
    kind = models.CharField(max_length=12, choices=Kind.choices, default=Kind.TRANSACTIONS)
    content = models.TextField()
    sha256 = models.CharField(max_length=64)
    rows = models.PositiveIntegerField()
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["platform_no", "date", "kind"], name="bank_statement_unique_day_kind")
        ]

    def __str__(self) -> str:
        return f"{self.platform_no} {self.date:%Y-%m-%d}"
