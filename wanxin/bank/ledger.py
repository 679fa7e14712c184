"""Double-entry ledger. All movements of one request are collected in a ``Posting`` and
applied together: net deltas per account, in primary-key order (no deadlocks), each by
one conditional UPDATE that refuses to overdraw (the CHECK constraints back it up)."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field

from django.db import connections

from .models import Account, BalanceChange, BankRequest, Freeze, Transfer

DB = "bank"


class InsufficientBalance(Exception):
    def __init__(self, account_id: int):
        super().__init__(f"account {account_id} has insufficient available balance")
        self.account_id = account_id


class FreezeExhausted(Exception):
    """The freeze is not FROZEN any more or has less remaining than asked."""


@dataclass
class Posting:
    request: BankRequest
    transfers: list[Transfer] = field(default_factory=list)
    deltas: dict[int, list[int]] = field(default_factory=lambda: defaultdict(lambda: [0, 0]))
    freeze_posts: dict[int, int] = field(default_factory=lambda: defaultdict(int))
    freeze_voids: list[int] = field(default_factory=list)

    # -- movements ---------------------------------------------------------------------
    def transfer(self, debit: Account, credit: Account, amount: int) -> None:
        """Move ``amount`` from ``debit``'s available balance to ``credit``'s."""
        if amount <= 0:
            return
        self.transfers.append(Transfer(request=self.request, debit=debit, credit=credit, amount=amount))
        self.deltas[debit.pk][0] -= amount
        self.deltas[credit.pk][0] += amount

    def post(self, freeze: Freeze, credit: Account, amount: int) -> None:
        """Pay ``amount`` out of a freeze (frozen money of its owner) to ``credit``."""
        if amount <= 0:
            return
        self.transfers.append(
            Transfer(request=self.request, debit_id=freeze.account_id, credit=credit, amount=amount, freeze=freeze)
        )
        self.deltas[freeze.account_id][1] -= amount
        self.deltas[credit.pk][0] += amount
        self.freeze_posts[freeze.pk] += amount

    def hold(self, account: Account, amount: int) -> None:
        """Move available to frozen (the freeze row itself is created by the caller)."""
        self.deltas[account.pk][0] -= amount
        self.deltas[account.pk][1] += amount

    def void(self, freeze: Freeze) -> None:
        """Release whatever remains of a freeze back to available (applied under lock)."""
        self.freeze_voids.append(freeze.pk)

    # -- application -------------------------------------------------------------------
    def apply(self) -> list[BalanceChange]:
        with connections[DB].cursor() as cur:
            for freeze_id in sorted(set(self.freeze_posts) | set(self.freeze_voids)):
                if freeze_id in self.freeze_voids:
                    # FOR UPDATE re-reads the newest version of the row, so the amount
                    # released is exactly what remained when the lock was taken.
                    cur.execute(
                        "WITH old AS (SELECT id, remaining FROM bank_freeze "
                        "WHERE id = %s AND status = 'FROZEN' FOR UPDATE) "
                        "UPDATE bank_freeze f SET remaining = 0, status = 'VOIDED' FROM old "
                        "WHERE f.id = old.id RETURNING f.account_id, old.remaining",
                        [freeze_id],
                    )
                    row = cur.fetchone()
                    if row is None:
                        raise FreezeExhausted(freeze_id)
                    account_id, released = row
                    self.deltas[account_id][0] += released
                    self.deltas[account_id][1] -= released
                    continue
                amount = self.freeze_posts[freeze_id]
                cur.execute(
                    "UPDATE bank_freeze SET remaining = remaining - %s, "
                    "status = CASE WHEN remaining = %s THEN 'POSTED' ELSE 'FROZEN' END "
                    "WHERE id = %s AND status = 'FROZEN' AND remaining >= %s RETURNING id",
                    [amount, amount, freeze_id, amount],
                )
                if cur.fetchone() is None:
                    raise FreezeExhausted(freeze_id)
            changes = []
            for account_id in sorted(self.deltas):
                d_available, d_frozen = self.deltas[account_id]
                if d_available == 0 and d_frozen == 0:
                    continue
                cur.execute(
                    "UPDATE bank_account SET available = available + %s, frozen = frozen + %s "
                    "WHERE id = %s AND (kind = 'CARD_NETWORK' OR available + %s >= 0) "
                    "AND frozen + %s >= 0 RETURNING available, frozen",
                    [d_available, d_frozen, account_id, d_available, d_frozen],
                )
                row = cur.fetchone()
                if row is None:
                    raise InsufficientBalance(account_id)
                changes.append(
                    BalanceChange(
                        account_id=account_id,
                        request=self.request,
                        delta_available=d_available,
                        delta_frozen=d_frozen,
                        available_after=row[0],
                        frozen_after=row[1],
                    )
                )
        if self.transfers:
            Transfer.objects.using(DB).bulk_create(self.transfers)
        if changes:
            BalanceChange.objects.using(DB).bulk_create(changes)
        return changes
