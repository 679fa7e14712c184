"""Double-entry ledger. All movements of one request are collected in a ``Posting`` and
applied together: net deltas per account, each by one conditional UPDATE that refuses to
overdraw (the CHECK constraints back it up) and writes the account's history row in the
same statement.

Lock order, the same in every transaction (so no deadlocks): customer accounts by primary
key, then shared accounts (platform accounts, the card network) by primary key. The
request pipeline updates the shared accounts after it has stored the response, as the last
statements before COMMIT, so their hot rows stay locked as briefly as possible.

The money path uses fixed SQL rather than the ORM: it runs on every request and the ORM's
statement compilation was most of the bank's CPU (docs/benchmarks.md)."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field

from django.db import connections
from django.utils import timezone

from .models import Account, BankRequest, Freeze

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
    # (debit_id, credit_id, amount, freeze_id or None), inserted as Transfer rows.
    transfers: list[tuple[int, int, int, int | None]] = field(default_factory=list)
    deltas: dict[int, list[int]] = field(default_factory=lambda: defaultdict(lambda: [0, 0]))
    freeze_posts: dict[int, int] = field(default_factory=lambda: defaultdict(int))
    freeze_voids: list[int] = field(default_factory=list)
    # Accounts every request may touch (platform accounts, card network): updated last.
    shared: set[int] = field(default_factory=set)
    # (account_id, biz_type, project_no, amount) of the Freeze row a hold creates.
    new_freeze: tuple[int, str, str, int] | None = None

    # -- movements ---------------------------------------------------------------------
    def transfer(self, debit: Account, credit: Account, amount: int) -> None:
        """Move ``amount`` from ``debit``'s available balance to ``credit``'s."""
        if amount <= 0:
            return
        self.transfers.append((debit.pk, credit.pk, amount, None))
        self._note_shared(debit, credit)
        self.deltas[debit.pk][0] -= amount
        self.deltas[credit.pk][0] += amount

    def post(self, freeze: Freeze, credit: Account, amount: int) -> None:
        """Pay ``amount`` out of a freeze (frozen money of its owner) to ``credit``."""
        if amount <= 0:
            return
        self.transfers.append((freeze.account_id, credit.pk, amount, freeze.pk))
        self._note_shared(credit)
        self.deltas[freeze.account_id][1] -= amount
        self.deltas[credit.pk][0] += amount
        self.freeze_posts[freeze.pk] += amount

    def hold(self, account: Account, amount: int, *, biz_type: str, project_no: str = "") -> None:
        """Move available to frozen and create the Freeze row (a pending transfer) for it."""
        self.deltas[account.pk][0] -= amount
        self.deltas[account.pk][1] += amount
        self.new_freeze = (account.pk, biz_type, project_no, amount)

    def void(self, freeze: Freeze) -> None:
        """Release whatever remains of a freeze back to available (applied under lock)."""
        self.freeze_voids.append(freeze.pk)

    def _note_shared(self, *accounts: Account) -> None:
        self.shared.update(a.pk for a in accounts if a.kind != Account.Kind.CUSTOMER)

    # -- application -------------------------------------------------------------------
    def apply(self) -> None:
        """Apply freezes, transfers and customer balances now; shared balances now too,
        unless the request pipeline collects them to apply just before COMMIT (it sets
        ``request.shared_postings``, see ``processing.run_handler``)."""
        with connections[DB].cursor() as cur:
            for freeze_id in sorted(set(self.freeze_posts) | set(self.freeze_voids)):
                if freeze_id in self.freeze_voids:
                    self._void(cur, freeze_id)
                else:
                    self._post(cur, freeze_id, self.freeze_posts[freeze_id])
            customer = {pk: d for pk, d in self.deltas.items() if pk not in self.shared}
            change_balances(cur, self.request, customer, inserts=self._inserts())
        later = getattr(self.request, "shared_postings", None)
        if later is None:
            apply_shared(self.request, [self])
        else:
            later.append(self)

    def _void(self, cur, freeze_id: int) -> None:
        # FOR UPDATE re-reads the newest version of the row, so the amount released is
        # exactly what remained when the lock was taken.
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

    def _post(self, cur, freeze_id: int, amount: int) -> None:
        cur.execute(
            "UPDATE bank_freeze SET remaining = remaining - %s, "
            "status = CASE WHEN remaining = %s THEN 'POSTED' ELSE 'FROZEN' END "
            "WHERE id = %s AND status = 'FROZEN' AND remaining >= %s RETURNING id",
            [amount, amount, freeze_id, amount],
        )
        if cur.fetchone() is None:
            raise FreezeExhausted(freeze_id)

    def _inserts(self) -> list[tuple[str, list]]:
        """The request's new Transfer and Freeze rows, as INSERT statements with parameters."""
        now, inserts = timezone.now(), []
        if self.transfers:
            inserts.append((
                INSERT_TRANSFERS + ", ".join([TRANSFER_ROW] * len(self.transfers)),
                [v for debit, credit, amount, freeze in self.transfers
                 for v in (self.request.pk, debit, credit, amount, freeze, now)],
            ))
        if self.new_freeze:
            account_id, biz_type, project_no, amount = self.new_freeze
            inserts.append((INSERT_FREEZE, [self.request.pk, account_id, biz_type, project_no, amount, amount, now]))
        return inserts

    def shared_deltas(self) -> dict[int, list[int]]:
        return {pk: d for pk, d in self.deltas.items() if pk in self.shared}


def apply_shared(request: BankRequest, postings: list[Posting]) -> None:
    """The shared-account part of the request's postings, merged per account."""
    deltas: dict[int, list[int]] = defaultdict(lambda: [0, 0])
    for posting in postings:
        for pk, (d_available, d_frozen) in posting.shared_deltas().items():
            deltas[pk][0] += d_available
            deltas[pk][1] += d_frozen
    if deltas:
        with connections[DB].cursor() as cur:
            change_balances(cur, request, deltas)


# The balance update and its history row in one statement: the BalanceChange row is
# written while the account row is still locked by this very UPDATE, so history ids follow
# the order of the balance changes and every account replays to its balance. Parameters:
# delta available, delta frozen, account id, the two deltas again, request id, the two
# deltas again, time.
CHANGE_BALANCE = (
    "u AS (UPDATE bank_account SET available = available + %s, frozen = frozen + %s "
    "WHERE id = %s AND (kind = 'CARD_NETWORK' OR available + %s >= 0) AND frozen + %s >= 0 "
    "RETURNING id, available, frozen) "
    "INSERT INTO bank_balancechange (account_id, request_id, delta_available, delta_frozen, "
    "available_after, frozen_after, created_at) "
    "SELECT id, %s, %s, %s, available, frozen, %s FROM u RETURNING id"
)
INSERT_TRANSFERS = "INSERT INTO bank_transfer (request_id, debit_id, credit_id, amount, freeze_id, created_at) VALUES "
TRANSFER_ROW = "(%s, %s, %s, %s, %s, %s)"
INSERT_FREEZE = (
    "INSERT INTO bank_freeze (request_id, account_id, biz_type, project_no, amount, remaining, status, created_at) "
    "VALUES (%s, %s, %s, %s, %s, %s, 'FROZEN', %s)"
)


def change_balances(cur, request: BankRequest, deltas: dict[int, list[int]], *,
                    inserts: Sequence[tuple[str, list]] = ()) -> None:
    """Apply net deltas in primary-key order; refuse (``InsufficientBalance``) on an overdraft.

    ``inserts`` (the request's new Transfer and Freeze rows) ride along with the first
    balance statement as data-modifying CTEs, which run whatever the UPDATE finds (foreign
    keys are deferred): fewer round trips. On a refusal the caller rolls them back too."""
    now = timezone.now()
    for account_id in sorted(deltas):
        d_available, d_frozen = deltas[account_id]
        if d_available == 0 and d_frozen == 0:
            continue
        ctes = "".join(f"i{n} AS ({sql}), " for n, (sql, _) in enumerate(inserts))
        cur.execute(
            "WITH " + ctes + CHANGE_BALANCE,
            [*(p for _, params in inserts for p in params), d_available, d_frozen, account_id, d_available,
             d_frozen, request.pk, d_available, d_frozen, now],
        )
        if cur.fetchone() is None:
            raise InsufficientBalance(account_id)
        inserts = ()
    for sql, params in inserts:  # no customer balance here (staff funding: shared accounts only)
        cur.execute(sql, params)
