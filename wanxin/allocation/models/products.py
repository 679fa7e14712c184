"""What an allocation is made from: products and their multiples, the trading calendar's
holidays, the brokers' sub-accounts. Rates are Decimal with six places."""

from __future__ import annotations

from django.contrib.postgres.fields import ArrayField
from django.db import models
from django.db.models import F, Q
from django.utils.translation import gettext_lazy as _

from wanxin.fields import EncryptedTextField

from .. import domain, labels

RATE = {"max_digits": 9, "decimal_places": 6}


class Product(models.Model):
    """What operators offer. An allocation copies the terms it was sold on, so editing a
    product never changes a running allocation."""

    code = models.SlugField(_("code"), max_length=30, unique=True)
    name = models.CharField(_("name"), max_length=60)
    type = models.CharField(_("type"), max_length=8, choices=labels.choices(labels.PRODUCT_TYPES))
    durations = ArrayField(models.PositiveSmallIntegerField(), verbose_name=_("durations"),
                           help_text=_("trading days (daily) or months (monthly)"))
    deposit_min = models.BigIntegerField(_("minimum deposit (fen)"))
    deposit_max = models.BigIntegerField(_("maximum deposit (fen)"))
    risk_fund_rate = models.DecimalField(_("risk fund rate"), **RATE)
    warning_pct = models.DecimalField(_("warning line (share of deposit)"), **RATE)
    liquidation_pct = models.DecimalField(_("liquidation line (share of deposit)"), **RATE)
    active = models.BooleanField(_("on sale"), default=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = _("allocation product")
        verbose_name_plural = _("allocation products")
        constraints = [
            models.CheckConstraint(condition=Q(type__in=domain.PRODUCT_TYPES), name="allocation_product_type"),
            models.CheckConstraint(
                condition=Q(liquidation_pct__gt=0) & Q(liquidation_pct__lt=F("warning_pct")) & Q(warning_pct__lt=1),
                name="allocation_product_lines_ordered"),
            models.CheckConstraint(condition=Q(deposit_min__gt=0) & Q(deposit_max__gte=F("deposit_min")),
                                   name="allocation_product_deposit_range"),
            models.CheckConstraint(condition=Q(risk_fund_rate__gte=0) & Q(risk_fund_rate__lte=1),
                                   name="allocation_product_risk_fund_rate"),
        ]

    def __str__(self) -> str:
        return self.name

    def terms(self) -> domain.ProductTerms:
        return domain.ProductTerms(
            type=self.type, rates={m.multiple: m.rate for m in self.multiples.all()},
            durations=list(self.durations), deposit_min=self.deposit_min, deposit_max=self.deposit_max,
            risk_fund_rate=self.risk_fund_rate, warning_pct=self.warning_pct, liquidation_pct=self.liquidation_pct)


class ProductMultiple(models.Model):
    """One allowed leverage multiple of a product with its fee rate per charge."""

    product = models.ForeignKey(Product, on_delete=models.CASCADE, related_name="multiples")
    multiple = models.PositiveSmallIntegerField(_("multiple"))
    rate = models.DecimalField(_("fee rate per charge"), **RATE)

    class Meta:
        ordering = ["multiple"]
        verbose_name = _("multiple")
        constraints = [
            models.UniqueConstraint(fields=["product", "multiple"], name="allocation_multiple_once"),
            models.CheckConstraint(condition=Q(multiple__gte=1) & Q(rate__gte=0), name="allocation_multiple_valid"),
        ]


class Holiday(models.Model):
    """A weekday the exchange is closed; the trading calendar is weekdays minus these."""

    day = models.DateField(_("day"), unique=True)
    name = models.CharField(_("name"), max_length=60, blank=True)

    class Meta:
        ordering = ["day"]
        verbose_name = _("holiday")
        verbose_name_plural = _("holidays")

    def __str__(self) -> str:
        return f"{self.day} {self.name}"


class SubAccount(models.Model):
    """A trading sub-account (Hang Seng/HOMS style) from the pool operators keep. The
    password is encrypted at rest and shown only to the allocation's owner."""

    class Status(models.TextChoices):
        AVAILABLE = "AVAILABLE", _("Available")
        ASSIGNED = "ASSIGNED", _("Assigned")
        RETIRED = "RETIRED", _("Retired")

    account_id = models.CharField(_("account id"), max_length=40, unique=True)
    password = EncryptedTextField(_("password"))
    broker = models.CharField(_("system"), max_length=20, default="HOMS")
    status = models.CharField(_("status"), max_length=10, choices=Status.choices, default=Status.AVAILABLE)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("trading sub-account")
        verbose_name_plural = _("trading sub-accounts")
        constraints = [models.CheckConstraint(condition=Q(status__in=["AVAILABLE", "ASSIGNED", "RETIRED"]),
                                              name="allocation_subaccount_status")]

    def __str__(self) -> str:
        return self.account_id
