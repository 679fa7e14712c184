"""Translatable labels of every status and kind a person sees (never the raw code)."""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _

from . import domain

PRODUCT_TYPES = {
    domain.DAILY: _("Daily (fee per trading day)"),
    domain.MONTHLY: _("Monthly (fee per month)"),
}
STATUSES = {
    domain.APPLIED: _("Applied"),
    domain.DEPOSIT_PAID: _("Deposit paid, risk fund to make up"),
    domain.PAID: _("Paid, waiting for review"),
    domain.APPROVED: _("Approved"),
    domain.IN_PROGRESS: _("In progress"),
    domain.WARNING: _("Below the warning line"),
    domain.LIQUIDATION: _("Liquidation"),
    domain.TERMINATION_REQUESTED: _("Termination requested"),
    domain.SETTLEMENT_PROPOSED: _("Settlement proposed"),
    domain.SETTLED: _("Settled"),
    domain.REJECTED: _("Rejected"),
    domain.CANCELLED: _("Cancelled"),
}
REQUEST_KINDS = {
    domain.TOP_UP: _("Margin top-up"),
    domain.INCREASE: _("Increase allocation"),
    domain.PROFIT_WITHDRAWAL: _("Profit withdrawal"),
    domain.EXTENSION: _("Extension"),
    domain.TERMINATION: _("Termination"),
}
REQUEST_STATUSES = {
    domain.R_PENDING: _("Pending"),
    domain.R_APPROVED: _("Approved, at the bank"),
    domain.R_DONE: _("Done"),
    domain.R_REJECTED: _("Rejected"),
    domain.R_CANCELLED: _("Cancelled"),
    domain.R_FAILED: _("Failed"),
}


def choices(labels: dict) -> list[tuple[str, object]]:
    return list(labels.items())
