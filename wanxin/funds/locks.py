"""Row locks of funds: customer accounts come last in the one global order
(docs/decisions/0003), after every business row of the same path; several by primary key.
``ledger._apply_batch`` takes the same locks in one statement (``ORDER BY id FOR UPDATE``)."""

from __future__ import annotations

from .models import DepositoryAccount


def account_of_user_lock(user, *, user_no: str):
    """The customer's account under its row lock, created (``user_no``) if they have none:
    account opening serialises on it."""
    return DepositoryAccount.objects.select_for_update().get_or_create(user=user, defaults={"user_no": user_no})[0]


def account_lock(account_id: int) -> DepositoryAccount | None:
    return DepositoryAccount.objects.select_for_update().filter(pk=account_id).first()


def account_hold(account_id: int) -> None:
    """Lock the account row without reading it (serialise one customer's own commands)."""
    DepositoryAccount.objects.select_for_update().filter(pk=account_id).values_list("pk").first()


def account_of_user_hold(user) -> DepositoryAccount | None:
    """The customer's account read under its row lock in one statement (a bid's first lock)."""
    return DepositoryAccount.objects.select_for_update().filter(user=user).first()
