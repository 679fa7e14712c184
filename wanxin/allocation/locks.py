"""Row locks of allocation, at its place in the one global order (docs/decisions/0003, row 5):
loan rows → allocation → its bank requests → depository request → customer accounts
(``funds.locks``), each kind by primary key."""

from __future__ import annotations

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
