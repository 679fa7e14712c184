"""What the bank holds, read from its own database: the side of a test that checks platform
records against the bank. Imports only the bank's models, so the bank's tests may use it too."""

from __future__ import annotations

from wanxin.bank.models import Account, Freeze
from wanxin.bank.models import Project as BankProject


def bank_balance(account_no: str) -> tuple[int, int]:
    """(available, frozen) of an account at the bank."""
    account = Account.objects.using("bank").get(account_no=account_no)
    return account.available, account.frozen


def bank_income() -> int:
    """The platform's income account at the bank (0 before its first fee)."""
    account = Account.objects.using("bank").filter(account_no="PLATFORM_INCOME").first()
    return account.available if account else 0


def bank_project(project_no: str) -> BankProject | None:
    return BankProject.objects.using("bank").filter(project_no=project_no).first()


def bank_frozen_on(project_no: str) -> int:
    """Fen still frozen at the bank for a project (its tenders' freezes)."""
    return sum(Freeze.objects.using("bank").filter(project_no=project_no, status="FROZEN")
               .values_list("remaining", flat=True))
