"""Models of the funds app: the customer's depository account as the platform knows it,
and the fund records (资金动态) of every money event."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from wanxin.core.identity import mask_card_number, mask_id_number, mask_name
from wanxin.fields import EncryptedTextField

from .domain import EVENT_TYPES

BANKS: tuple[tuple[str, str], ...] = (
    ("ICBC", "Industrial and Commercial Bank of China 工商银行"),
    ("CCB", "China Construction Bank 建设银行"),
    ("ABC", "Agricultural Bank of China 农业银行"),
    ("BOC", "Bank of China 中国银行"),
    ("BOCOM", "Bank of Communications 交通银行"),
    ("CMB", "China Merchants Bank 招商银行"),
    ("PSBC", "Postal Savings Bank of China 邮储银行"),
    ("CIB", "Industrial Bank 兴业银行"),
    ("SPDB", "Shanghai Pudong Development Bank 浦发银行"),
    ("CITIC", "China CITIC Bank 中信银行"),
    ("CEB", "China Everbright Bank 光大银行"),
    ("CMBC", "China Minsheng Bank 民生银行"),
)


class DepositoryAccount(models.Model):
    """The customer's account at the depository bank, as the platform knows it.

    Personal data is encrypted at rest; ``id_number_index`` (a keyed blind index) makes an
    ID number usable by one customer only while their account is pending or open.
    ``available`` and ``frozen`` mirror the bank's balances from the money results the
    platform has applied (the bank stays the authority; pages show ``QUERY_BALANCE``)."""

    class Status(models.TextChoices):
        NONE = "NONE", _("Not opened")
        PENDING = "PENDING", _("Waiting for the bank")
        OPEN = "OPEN", _("Open")
        FAILED = "FAILED", _("Opening failed")

    ALLOWED = {
        Status.NONE: {Status.PENDING},
        Status.PENDING: {Status.OPEN, Status.FAILED},
        Status.FAILED: {Status.PENDING},
        Status.OPEN: set(),
    }

    user = models.OneToOneField(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="depository_account")
    user_no = models.CharField(max_length=64, unique=True)
    status = models.CharField(max_length=8, choices=Status.choices, default=Status.NONE)
    full_name = EncryptedTextField(blank=True)
    id_number = EncryptedTextField(blank=True)
    id_number_index = models.CharField(max_length=64, blank=True)
    card_number = EncryptedTextField(blank=True)
    bank_code = models.CharField(max_length=10, choices=BANKS, blank=True)
    mobile = models.CharField(max_length=11, blank=True)
    role = models.CharField(max_length=10, blank=True)
    requested_auth = models.JSONField(default=list, blank=True)
    auth_list = models.JSONField(default=list, blank=True, help_text="authorisations the customer granted")
    request_no = models.CharField(max_length=64, blank=True, help_text="the latest PERSONAL_REGISTER request")
    fail_reason = models.CharField(max_length=300, blank=True)
    attempts = models.PositiveIntegerField(default=0)
    available = models.BigIntegerField(default=0, help_text="mirror of the bank's available balance (fen)")
    frozen = models.BigIntegerField(default=0, help_text="mirror of the bank's frozen balance (fen)")
    opened_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["id_number_index"],
                condition=Q(status__in=["PENDING", "OPEN"]) & ~Q(id_number_index=""),
                name="funds_account_id_number_in_use",
            ),
            models.CheckConstraint(condition=Q(status__in=["NONE", "PENDING", "OPEN", "FAILED"]),
                                   name="funds_account_status_valid"),
        ]
        indexes = [models.Index(fields=["request_no"], name="funds_account_request_no")]

    def __str__(self) -> str:
        return f"{self.user_no} {self.status}"

    @property
    def is_open(self) -> bool:
        return self.status == self.Status.OPEN

    @property
    def masked_name(self) -> str:
        return mask_name(self.full_name or "")

    @property
    def masked_id_number(self) -> str:
        return mask_id_number(self.id_number) if self.id_number else ""

    @property
    def masked_card_number(self) -> str:
        return mask_card_number(self.card_number) if self.card_number else ""

    @property
    def bank_name(self) -> str:
        return dict(BANKS).get(self.bank_code, self.bank_code)


class FundRecord(models.Model):
    """One money event of one customer. Immutable; one row per (request_no, type)."""

    TYPE_CHOICES = [(t.code, t.label) for t in EVENT_TYPES]  # shown through funds.labels

    # No index of its own: the composite indexes below start with the user.
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="fund_records",
                             db_index=False)
    type = models.CharField(max_length=24, choices=TYPE_CHOICES)
    amount = models.BigIntegerField(help_text="signed fen: + in, − out")
    available_after = models.BigIntegerField(help_text="available balance after this event (fen)")
    frozen_after = models.BigIntegerField(default=0, help_text="frozen balance after this event (fen)")
    request_no = models.CharField(max_length=64)
    remark = models.CharField(max_length=200, blank=True)
    created_at = models.DateTimeField()

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["request_no", "type"], name="funds_record_request_type_unique"),
        ]
        indexes = [
            # The list, newest first, and keyset pages: (created_at, id) < cursor; INCLUDE
            # (type, amount): the statistics of a date range are an index-only scan.
            models.Index(fields=["user", "-created_at", "-id"], name="funds_record_user_time",
                         include=["type", "amount"]),
            # The same filtered by type (and the statistics of chosen types).
            models.Index(fields=["user", "type", "-created_at", "-id"], name="funds_record_user_type_time",
                         include=["amount"]),
        ]

    def __str__(self) -> str:
        return f"{self.type} {self.amount} {self.request_no}"
