"""Allocation products, the trading calendar's holidays, allocations with their fund
records, bank requests, daily account statuses, requests, calls, sub-accounts and
settlements. Amounts are BigIntegerField fen; rates Decimal with six places."""

from __future__ import annotations

from django.conf import settings
from django.contrib.postgres.fields import ArrayField
from django.db import models
from django.db.models import F, Q
from django.utils.translation import gettext_lazy as _

from wanxin.fields import EncryptedTextField

from . import domain, labels

RATE = {"max_digits": 9, "decimal_places": 6}
_LIVE = ~Q(status__in=[domain.SETTLED, domain.REJECTED, domain.CANCELLED])


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
    # Unused since submit keys live in depository.IdempotencyKey (older rows keep theirs): to drop.
    submit_token = models.CharField(max_length=64, blank=True)
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
            models.UniqueConstraint(fields=["customer", "submit_token"], condition=~Q(submit_token=""),
                                    name="allocation_submit_once"),
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


class Request(models.Model):
    """A request a running allocation takes: top-up, increase, profit withdrawal, extension
    or termination; at most one open (pending or approved) of each kind per allocation."""

    allocation = models.ForeignKey(Allocation, on_delete=models.PROTECT, related_name="requests")
    kind = models.CharField(_("kind"), max_length=20, choices=labels.choices(labels.REQUEST_KINDS))
    status = models.CharField(_("status"), max_length=10, choices=labels.choices(labels.REQUEST_STATUSES),
                              default=domain.R_PENDING)
    amount = models.BigIntegerField(_("amount"), null=True, blank=True, help_text="fen: top-up, increase, withdrawal")
    months = models.PositiveSmallIntegerField(_("months"), null=True, blank=True, help_text="extension")
    reason = models.CharField(_("reason"), max_length=300, blank=True)
    bank_request_no = models.CharField(max_length=64, blank=True, help_text="the bank request carrying it out")
    decided_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True,
                                   related_name="+")
    decided_at = models.DateTimeField(null=True, blank=True)
    note = models.CharField(_("note"), max_length=300, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("allocation request")
        constraints = [
            models.CheckConstraint(condition=Q(kind__in=domain.REQUEST_KINDS), name="allocation_request_kind"),
            models.CheckConstraint(condition=Q(status__in=domain.REQUEST_STATUSES), name="allocation_request_status"),
            models.CheckConstraint(condition=Q(amount__isnull=True) | Q(amount__gt=0), name="allocation_request_amount"),
            models.UniqueConstraint(fields=["allocation", "kind"],
                                    condition=Q(status__in=domain.OPEN_REQUEST_STATUSES),
                                    name="allocation_one_open_request_per_kind"),
        ]


class CallRecord(models.Model):
    """The operator's phone call to the customer before approval."""

    class Outcome(models.TextChoices):
        CONFIRMED = "CONFIRMED", _("Reached, customer confirmed")
        NO_ANSWER = "NO_ANSWER", _("No answer")
        DECLINED = "DECLINED", _("Reached, customer declined")
        WRONG_NUMBER = "WRONG_NUMBER", _("Wrong number")

    allocation = models.ForeignKey(Allocation, on_delete=models.PROTECT, related_name="calls")
    operator = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    called_at = models.DateTimeField(_("called at"))
    outcome = models.CharField(_("outcome"), max_length=14, choices=Outcome.choices)
    note = models.CharField(_("note"), max_length=300, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("call record")


class Settlement(models.Model):
    """Maker-checker: an operator proposes from the final total assets, a different finance
    officer approves. The parts are ``domain.settle``'s, kept as proposed."""

    class Status(models.TextChoices):
        PROPOSED = "PROPOSED", _("Proposed")
        APPROVED = "APPROVED", _("Approved, at the bank")
        DONE = "DONE", _("Done")
        REJECTED = "REJECTED", _("Sent back")

    allocation = models.ForeignKey(Allocation, on_delete=models.PROTECT, related_name="settlements")
    status = models.CharField(_("status"), max_length=10, choices=Status.choices, default=Status.PROPOSED)
    final_total_assets = models.BigIntegerField(_("final total assets"))
    total_capital = models.BigIntegerField(_("total capital"))
    settle = models.BigIntegerField(_("settlement"))
    payout = models.BigIntegerField(default=0)
    loss_from_deposit = models.BigIntegerField(default=0)
    loss_from_risk_fund = models.BigIntegerField(default=0)
    loss_debt = models.BigIntegerField(default=0)
    arrears_from_deposit = models.BigIntegerField(default=0)
    arrears_from_risk_fund = models.BigIntegerField(default=0)
    arrears_unpaid = models.BigIntegerField(default=0)
    release_deposit = models.BigIntegerField(default=0)
    release_risk_fund = models.BigIntegerField(default=0)
    proposed_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    approved_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True,
                                    related_name="+")
    note = models.CharField(_("note"), max_length=300, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    decided_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = _("settlement")
        constraints = [
            models.UniqueConstraint(fields=["allocation"], condition=Q(status__in=["PROPOSED", "APPROVED", "DONE"]),
                                    name="allocation_one_live_settlement"),
            models.CheckConstraint(condition=Q(approved_by__isnull=True) | ~Q(approved_by=F("proposed_by")),
                                   name="allocation_settlement_four_eyes"),
            models.CheckConstraint(condition=Q(settle=F("final_total_assets") - F("total_capital")),
                                   name="allocation_settlement_formula"),
        ]
