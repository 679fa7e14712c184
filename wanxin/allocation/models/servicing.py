"""The customer's requests, the operators' calls and the settlement of an allocation."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import F, Q
from django.utils.translation import gettext_lazy as _

from .. import domain, labels
from .allocations import Allocation


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
