"""The levels a reconciliation day is proved at, in the order ``services.day_reconcile``
runs them. Shown on each day's page, so nobody takes an unchecked level for a clean one.

Allocations (issue 13, "once they exist") are NOT checked yet: the allocation app is being
built on its own branch. The extension point is ``ALLOCATIONS`` below: when
``wanxin.allocation`` lands, add a ``matching.allocations_match(day_id, end)`` comparing each
running allocation's frozen deposit and risk fund in the bank's balance file (its
``ALLOCATION`` freezes) with the allocation's fund records, a ``Difference.Kind``
``ALLOCATION_DIFFERS``, call it from ``day_reconcile`` after the balances, and set
``checked=True`` here. Reconciliation sits above allocation, so it imports allocation's
selectors; allocation never imports reconciliation."""

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
ALLOCATIONS = Level("ALLOCATIONS", _("Allocations: frozen deposit and risk fund of each running allocation"), False,
                    _("Not checked yet: the allocation business is not installed."))

LEVELS = (TRANSACTIONS, BALANCES, ALLOCATIONS)
