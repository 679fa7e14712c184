"""Running allocations for the reconciliation benchmark's allocations level (imported by
``benchmarks/reconciliation.py``; ``--allocations N``).

``N`` customers, each opened the day before the reconciled day with a running allocation
(deposit and risk fund frozen, first fee paid); every third also holds a tender freeze no
allocation owns. Both sides agree at the close: the platform's fund records (customer and
allocation) and the bank's accounts with their last balance change. Planted: the first
``planted`` allocations lost their risk-fund record (a write that never happened), which only
the allocations level can see: exactly those customers must be found, nothing else.

Generated with the ORM's bulk inserts (not timed; a few seconds for 10,000)."""

from __future__ import annotations

import datetime as dt

DEPOSIT, ALLOCATED, RISK_FUND, FEE, TENDER, RECHARGED = 1_000_000, 3_000_000, 30_000, 9_000, 100_000, 2_000_000


def user_no(i: int) -> str:
    return f"AL{i:07d}"


def generate(count: int, planted: int, day_start: dt.datetime) -> set[str]:
    """Write both sides; returns the customers whose allocation record is planted missing."""
    from django.db import transaction

    at = day_start - dt.timedelta(hours=6)  # the day before: in no statement of the reconciled day
    with transaction.atomic(), transaction.atomic(using="bank"):
        _platform(count, at)
        _bank(count, at)
        from wanxin.allocation.models import FundRecord as AllocationRecord

        lost = [user_no(i) for i in range(planted)]
        AllocationRecord.objects.filter(kind=AllocationRecord.Kind.RISK_FUND_FROZEN,
                                        allocation__customer__user_no__in=lost).delete()
    return set(lost)


def _balances(i: int) -> list[tuple[str, str, int, int, int]]:
    """The customer's fund records: (type, request_no, amount, available_after, frozen_after)."""
    rows = [("RECHARGE", f"AR{i}", RECHARGED, RECHARGED, 0),
            ("FREEZE", f"AD{i}", -DEPOSIT, RECHARGED - DEPOSIT, DEPOSIT),
            ("ALLOCATION_FEE", f"AF{i}", -FEE, RECHARGED - DEPOSIT - FEE, DEPOSIT),
            ("FREEZE", f"AK{i}", -RISK_FUND, RECHARGED - DEPOSIT - FEE - RISK_FUND, DEPOSIT + RISK_FUND)]
    if i % 3 == 0:
        _, _, _, available, frozen = rows[-1]
        rows.append(("FREEZE", f"AT{i}", -TENDER, available - TENDER, frozen + TENDER))
    return rows


def _platform(count: int, at: dt.datetime) -> None:
    from wanxin.accounts.models import User
    from wanxin.allocation.models import Allocation, BankRequest, Product
    from wanxin.allocation.models import FundRecord as AllocationRecord
    from wanxin.funds.models import DepositoryAccount, FundRecord

    product = Product.objects.get(code="monthly")
    users = User.objects.bulk_create([User(username=f"alloc{i}", user_no=user_no(i), role="BOTH", password="!")
                                      for i in range(count)], batch_size=5000)
    accounts, records, allocations = [], [], []
    for i, user in enumerate(users):
        last = _balances(i)[-1]
        accounts.append(DepositoryAccount(user=user, user_no=user.user_no, status="OPEN", available=last[3],
                                          frozen=last[4], opened_at=at))
        records += [FundRecord(user=user, type=t, amount=a, available_after=av, frozen_after=fr, request_no=no,
                               created_at=at + dt.timedelta(seconds=k)) for k, (t, no, a, av, fr) in
                    enumerate(_balances(i))]
        allocations.append(Allocation(
            allocation_no=f"ALN{i:07d}", customer=user, product=product, status="IN_PROGRESS", product_type="MONTHLY",
            multiple=3, rate="0.009000", duration=3, risk_fund_rate="0.010000", warning_pct="0.700000",
            liquidation_pct="0.500000", deposit=DEPOSIT, allocated=ALLOCATED, risk_fund=RISK_FUND, fee=FEE,
            warning_line=ALLOCATED + 700_000, liquidation_line=ALLOCATED + 500_000, deposit_frozen=DEPOSIT,
            risk_fund_frozen=RISK_FUND, fees_paid=FEE))
    DepositoryAccount.objects.bulk_create(accounts, batch_size=5000)
    FundRecord.objects.bulk_create(records, batch_size=5000)
    allocations = Allocation.objects.bulk_create(allocations, batch_size=5000)
    owned, ledger = [], []
    for i, allocation in enumerate(allocations):
        for purpose, kind, no, amount in (("DEPOSIT", "DEPOSIT_FROZEN", f"AD{i}", DEPOSIT),
                                          ("FEE", "FEE_PAID", f"AF{i}", FEE),
                                          ("RISK_FUND", "RISK_FUND_FROZEN", f"AK{i}", RISK_FUND)):
            owned.append(BankRequest(allocation=allocation, purpose=purpose, request_no=no, amount=amount,
                                     status="SUCCESS"))
            ledger.append(AllocationRecord(allocation=allocation, kind=kind, request_no=no,
                                           amount=-amount if kind == "FEE_PAID" else amount))
    BankRequest.objects.bulk_create(owned, batch_size=5000)
    AllocationRecord.objects.bulk_create(ledger, batch_size=5000)
    # auto_now_add wrote the time of the insert: back to when it happened.
    AllocationRecord.objects.update(created_at=at)
    Allocation.objects.update(created_at=at)


def _bank(count: int, at: dt.datetime) -> None:
    from django.conf import settings

    from wanxin.bank.models import Account, BalanceChange
    from wanxin.bank.models import BankRequest as BankSideRequest

    seed = BankSideRequest.objects.using("bank").create(
        platform_no=settings.PLATFORM_NO, request_no="BENCH-ALLOCATIONS", service_name="SEED", digest="",
        req_data={}, status="SUCCESS")
    accounts = Account.objects.using("bank").bulk_create([
        Account(platform_no=settings.PLATFORM_NO, account_no=user_no(i), kind="CUSTOMER", id_number=f"B{i:017d}",
                available=_balances(i)[-1][3], frozen=_balances(i)[-1][4]) for i in range(count)], batch_size=5000)
    BalanceChange.objects.using("bank").bulk_create([
        BalanceChange(account=account, request=seed, delta_available=account.available, delta_frozen=account.frozen,
                      available_after=account.available, frozen_after=account.frozen) for account in accounts],
        batch_size=5000)
    Account.objects.using("bank").filter(account_no__startswith="AL").update(opened_at=at)
    BalanceChange.objects.using("bank").filter(request=seed).update(created_at=at)
