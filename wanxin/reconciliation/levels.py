"""The levels a reconciliation day is proved at, in the order ``services.day_reconcile``
runs them. Shown on each day's page, so nobody takes an unchecked level for a clean one.

Allocations (``allocations.py``): the bank's balance file carries account totals only
(PROTOCOL §6), so the allocations' freezes are proved per customer: the bank's frozen
balance against the allocations' fund records plus the customer's other freezes."""

from __future__ import annotations

from dataclasses import dataclass

from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _


@dataclass(frozen=True)
class Level:
    code: str
    label: str | Promise
    checked: bool
    note: str | Promise = ""


TRANSACTIONS = Level("TRANSACTIONS", _("Transactions: the bank's statement against the platform's requests"), True)
BALANCES = Level("BALANCES", _("Balances: every customer and the platform's own accounts at the day's close"), True)
ALLOCATIONS = Level("ALLOCATIONS", _("Allocations: frozen deposit and risk fund of each running allocation"), True,
                    _("Per customer: the bank's file has account totals only."))

LEVELS = (TRANSACTIONS, BALANCES, ALLOCATIONS)
