"""Row locks of allocation, at its place in the one global order (docs/decisions/0003, row 5):
loan rows → allocation → its bank requests → depository request → customer accounts
(``funds.locks``), each kind by primary key."""

from __future__ import annotations

from django.db.models import F

from .models import Allocation, BankRequest


def allocation_lock(allocation_id: int) -> Allocation | None:
    return Allocation.objects.select_for_update().select_related("customer").filter(pk=allocation_id).first()


def allocation_and_bank_request_lock(bank_request_id: int) -> tuple[Allocation | None, BankRequest | None]:
    """A bank request of an allocation and the allocation, the allocation first (the link is
    read unlocked: it never changes)."""
    allocation_id = BankRequest.objects.filter(pk=bank_request_id).values_list("allocation_id", flat=True).first()
    if allocation_id is None:
        return None, None
    allocation = allocation_lock(allocation_id)
    return allocation, BankRequest.objects.select_for_update().filter(pk=bank_request_id).first()


def allocations_lock(allocation_ids: list[int]) -> list[Allocation]:
    """Many allocations under their row locks, by primary key, each with its customer's
    ``user_no`` (the customer row itself is not locked)."""
    return list(Allocation.objects.select_for_update(of=("self",)).filter(pk__in=allocation_ids)
                .annotate(user_no=F("customer__user_no")).order_by("pk"))
