"""What happened to an allocation's money: fund records, bank requests, fee charges and the
daily account statuses recorded from the broker."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import F, Q
from django.utils.translation import gettext_lazy as _

from .. import labels
from .allocations import Allocation


class FundRecord(models.Model):
    """The allocation's fund dynamics: every money event and every status change, in order.
    Immutable; a bank-backed event is unique per (request_no, kind)."""

    class Kind(models.TextChoices):
        DEPOSIT_FROZEN = "DEPOSIT_FROZEN", _("Deposit frozen")
        RISK_FUND_FROZEN = "RISK_FUND_FROZEN", _("Risk fund frozen")
        FEE_PAID = "FEE_PAID", _("Fee paid")
        FEE_REFUNDED = "FEE_REFUNDED", _("Fee refunded")
        FEE_ARREARS = "FEE_ARREARS", _("Fee in arrears")
        ARREARS_PAID = "ARREARS_PAID", _("Arrears paid")
        TOP_UP_FROZEN = "TOP_UP_FROZEN", _("Margin top-up frozen")
        INCREASE_FROZEN = "INCREASE_FROZEN", _("Increase deposit frozen")
        PROFIT_WITHDRAWN = "PROFIT_WITHDRAWN", _("Profit withdrawn")
        SETTLE_PAID = "SETTLE_PAID", _("Settlement paid")
        LOSS_TAKEN = "LOSS_TAKEN", _("Loss taken")
        DEBT = "DEBT", _("Loss recorded as debt")
        RELEASED = "RELEASED", _("Released")
        STATUS = "STATUS", _("Status changed")

    allocation = models.ForeignKey(Allocation, on_delete=models.PROTECT, related_name="fund_records")
    kind = models.CharField(_("kind"), max_length=20, choices=Kind.choices)
    amount = models.BigIntegerField(_("amount"), default=0, help_text="signed fen, as the customer sees it")
    request_no = models.CharField(max_length=64, blank=True)
    status_from = models.CharField(max_length=24, blank=True, choices=labels.choices(labels.STATUSES))
    status_to = models.CharField(max_length=24, blank=True, choices=labels.choices(labels.STATUSES))
    note = models.CharField(_("note"), max_length=300, blank=True)
    actor = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True,
                              related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("allocation fund record")
        constraints = [
            models.UniqueConstraint(fields=["request_no", "kind"], condition=~Q(request_no=""),
                                    name="allocation_record_once_per_request"),
        ]
        indexes = [models.Index(fields=["allocation", "created_at", "id"], name="allocation_record_time")]


class BankRequest(models.Model):
    """Which allocation (and what for) a depository request serves: the owner its result
    handler in ``results.py`` looks up by request number."""

    class Purpose(models.TextChoices):
        DEPOSIT = "DEPOSIT", _("Deposit freeze")
        RISK_FUND = "RISK_FUND", _("Risk fund freeze")
        FEE = "FEE", _("Fee")
        TOP_UP = "TOP_UP", _("Margin top-up freeze")
        INCREASE = "INCREASE", _("Increase deposit freeze")
        PROFIT = "PROFIT", _("Profit withdrawal")
        SETTLE = "SETTLE", _("Settlement")
        LOSS = "LOSS", _("Loss taken")
        ARREARS = "ARREARS", _("Arrears")
        RELEASE = "RELEASE", _("Release")
        FEE_REFUND = "FEE_REFUND", _("Fee refund")

    allocation = models.ForeignKey(Allocation, on_delete=models.PROTECT, related_name="bank_requests")
    purpose = models.CharField(max_length=12, choices=Purpose.choices)
    request_no = models.CharField(max_length=64, unique=True)
    pre_request_no = models.CharField(max_length=64, blank=True, help_text="the freeze it draws on or releases")
    amount = models.BigIntegerField()
    status = models.CharField(max_length=8, default="PENDING")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [models.CheckConstraint(condition=Q(amount__gt=0), name="allocation_bankrequest_amount")]
        indexes = [models.Index(fields=["allocation", "purpose"], name="allocation_bankreq_purpose")]


class FeeCharge(models.Model):
    """One charge of the fee schedule after the first (paid up front): paid through the
    bank, or arrears when the balance cannot cover it. Once per (allocation, date)."""

    class Status(models.TextChoices):
        PENDING = "PENDING", _("At the bank")
        PAID = "PAID", _("Paid")
        ARREARS = "ARREARS", _("In arrears")

    allocation = models.ForeignKey(Allocation, on_delete=models.PROTECT, related_name="fee_charges")
    date = models.DateField(_("date"))
    amount = models.BigIntegerField(_("amount"))
    status = models.CharField(_("status"), max_length=8, choices=Status.choices, default=Status.PENDING)
    request_no = models.CharField(max_length=64, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("fee charge")
        constraints = [
            models.UniqueConstraint(fields=["allocation", "date"], name="allocation_fee_once_per_date"),
            models.CheckConstraint(condition=Q(amount__gt=0), name="allocation_fee_charge_positive"),
        ]


class DailyStatus(models.Model):
    """A running allocation's sub-account on one trading day, as the broker statement shows it."""

    allocation = models.ForeignKey(Allocation, on_delete=models.PROTECT, related_name="daily_statuses")
    day = models.DateField(_("day"))
    total_assets = models.BigIntegerField(_("total assets"))
    market_value = models.BigIntegerField(_("market value"))
    available_cash = models.BigIntegerField(_("available cash"))
    profit_loss = models.BigIntegerField(_("profit and loss"))
    recorded_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["day"]
        verbose_name = _("daily account status")
        constraints = [
            models.UniqueConstraint(fields=["allocation", "day"], name="allocation_status_once_a_day"),
            models.CheckConstraint(
                condition=Q(total_assets__gte=0) & Q(market_value__gte=0) & Q(available_cash__gte=0)
                & Q(total_assets__gte=F("market_value") + F("available_cash")),
                name="allocation_status_sane"),
        ]
