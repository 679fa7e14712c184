"""The allocation itself: its terms as approved, its lines and its money figures (fen)."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import F, Q
from django.utils.translation import gettext_lazy as _

from .. import domain, labels
from .products import RATE, Product, SubAccount

_LIVE = ~Q(status__in=[domain.SETTLED, domain.REJECTED, domain.CANCELLED])


class Allocation(models.Model):
    """One customer's allocation. ``deposit`` and ``allocated`` include every top-up and
    increase; the lines are recomputed from them (``domain.lines``) whenever they change."""

    allocation_no = models.CharField(_("number"), max_length=40, unique=True)
    customer = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="allocations")
    product = models.ForeignKey(Product, on_delete=models.PROTECT, related_name="allocations")
    status = models.CharField(_("status"), max_length=24, choices=labels.choices(labels.STATUSES),
                              default=domain.APPLIED)
    # The terms it was sold on.
    product_type = models.CharField(_("type"), max_length=8, choices=labels.choices(labels.PRODUCT_TYPES))
    multiple = models.PositiveSmallIntegerField(_("multiple"))
    rate = models.DecimalField(_("fee rate per charge"), **RATE)
    duration = models.PositiveSmallIntegerField(_("duration"))
    risk_fund_rate = models.DecimalField(_("risk fund rate"), **RATE)
    warning_pct = models.DecimalField(_("warning line (share of deposit)"), **RATE)
    liquidation_pct = models.DecimalField(_("liquidation line (share of deposit)"), **RATE)
    # Capital, lines and money (fen).
    deposit = models.BigIntegerField(_("deposit"))
    allocated = models.BigIntegerField(_("allocated capital"))
    risk_fund = models.BigIntegerField(_("risk fund"))
    fee = models.BigIntegerField(_("fee per charge"))
    warning_line = models.BigIntegerField(_("warning line"))
    liquidation_line = models.BigIntegerField(_("liquidation line"))
    deposit_frozen = models.BigIntegerField(_("deposit frozen at the bank"), default=0)
    risk_fund_frozen = models.BigIntegerField(_("risk fund frozen at the bank"), default=0)
    arrears = models.BigIntegerField(_("arrears"), default=0)
    debt = models.BigIntegerField(_("debt"), default=0)
    profit_withdrawn = models.BigIntegerField(_("profit withdrawn"), default=0)
    fees_paid = models.BigIntegerField(_("fees paid"), default=0)
    # Dates (Beijing business days).
    start_date = models.DateField(_("trading start"), null=True, blank=True)
    end_date = models.DateField(_("end"), null=True, blank=True)
    auto_renew = models.BooleanField(_("renew automatically"), default=False)
    pays_risk_fund = models.BooleanField(_("risk fund paid with the deposit"), default=True,
                                         help_text="False: deposit only, the risk fund is made up later")
    sub_account = models.ForeignKey(SubAccount, on_delete=models.PROTECT, null=True, blank=True,
                                    related_name="allocations")
    # The latest recorded account status, for the queues (sorted by distance to the line).
    latest_total_assets = models.BigIntegerField(null=True, blank=True)
    latest_status_day = models.DateField(null=True, blank=True)
    reviewed_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True,
                                    related_name="+")
    approved_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = _("allocation")
        verbose_name_plural = _("allocations")
        constraints = [
            models.CheckConstraint(condition=Q(status__in=domain.STATUSES), name="allocation_status_known"),
            models.CheckConstraint(condition=Q(deposit__gt=0) & Q(allocated__gt=0) & Q(multiple__gte=1),
                                   name="allocation_capital_positive"),
            models.CheckConstraint(
                condition=Q(liquidation_line__lte=F("warning_line")) & Q(warning_line__lte=F("allocated") + F("deposit")),
                name="allocation_lines_ordered"),
            models.CheckConstraint(
                condition=Q(deposit_frozen__gte=0) & Q(deposit_frozen__lte=F("deposit"))
                & Q(risk_fund_frozen__gte=0) & Q(arrears__gte=0) & Q(debt__gte=0) & Q(profit_withdrawn__gte=0)
                & Q(fee__gte=0) & Q(risk_fund__gte=0) & Q(fees_paid__gte=0),
                name="allocation_money_not_negative"),
            # A sub-account trades for one live allocation at a time.
            models.UniqueConstraint(fields=["sub_account"], condition=_LIVE & Q(sub_account__isnull=False),
                                    name="allocation_one_live_per_subaccount"),
        ]
        indexes = [
            models.Index(fields=["customer", "-created_at"], name="allocation_customer_time"),
            models.Index(fields=["status", "created_at"], name="allocation_status_time"),
        ]

    def __str__(self) -> str:
        return self.allocation_no

    @property
    def total_capital(self) -> int:
        return self.deposit + self.allocated

    @property
    def risk_fund_due(self) -> int:
        """What is still to be made up of the risk fund."""
        return max(self.risk_fund - self.risk_fund_frozen, 0)

    def status_label(self) -> str:
        return str(labels.STATUSES.get(self.status, self.status))
