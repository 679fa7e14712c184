"""Finding bank accounts; system accounts are created on first use."""

from __future__ import annotations

from django.conf import settings
from django.db import IntegrityError, transaction

from wanxin.protocol import codes, messages

from .models import Account, BankCard
from .processing import DB, BusinessError

SYSTEM_KINDS = {
    messages.PLATFORM_INCOME: Account.Kind.PLATFORM_INCOME,
    messages.PLATFORM_CAPITAL: Account.Kind.PLATFORM_CAPITAL,
    "CARD_NETWORK": Account.Kind.CARD_NETWORK,
}


def system(platform_no: str, kind: str) -> Account:
    account = Account.objects.using(DB).filter(platform_no=platform_no, account_no=kind).first()
    if account is not None:
        return account
    try:
        with transaction.atomic(using=DB):
            return Account.objects.using(DB).create(platform_no=platform_no, account_no=kind, kind=kind)
    except IntegrityError:  # created concurrently
        return Account.objects.using(DB).get(platform_no=platform_no, account_no=kind)


def customer(platform_no: str, user_no: str, *, lock: bool = False) -> Account:
    qs = Account.objects.using(DB).filter(platform_no=platform_no, account_no=user_no, kind=Account.Kind.CUSTOMER)
    account = (qs.select_for_update() if lock else qs).first()
    if account is None or account.status != Account.Status.OPEN:
        raise BusinessError(codes.ACCOUNT_NOT_FOUND, f"no open account for {user_no}")
    return account


def customers(platform_no: str, user_nos: set[str]) -> dict[str, Account]:
    found = {
        a.account_no: a
        for a in Account.objects.using(DB).filter(
            platform_no=platform_no, account_no__in=user_nos, kind=Account.Kind.CUSTOMER, status=Account.Status.OPEN
        )
    }
    missing = sorted(user_nos - set(found))
    if missing:
        raise BusinessError(codes.ACCOUNT_NOT_FOUND, f"no open account for {missing[0]}")
    return found


def any_account(platform_no: str, account_no: str) -> Account:
    if account_no in (messages.PLATFORM_INCOME, messages.PLATFORM_CAPITAL):
        return system(platform_no, SYSTEM_KINDS[account_no])
    return customer(platform_no, account_no)


def open_customer(platform_no: str, data: dict, *, password_hash: str, granted: list[str]) -> Account:
    """Open the depository account and bind its card (PERSONAL_REGISTER)."""
    if Account.objects.using(DB).filter(platform_no=platform_no, account_no=data["userNo"]).exists():
        raise BusinessError(codes.INVALID_PARAMS, f"{data['userNo']} already has an account")
    if Account.objects.using(DB).filter(platform_no=platform_no, id_number=data["idNumber"]).exists():
        raise BusinessError(codes.INVALID_PARAMS, "this ID number already has an account")
    account = Account.objects.using(DB).create(
        platform_no=platform_no,
        account_no=data["userNo"],
        kind=Account.Kind.CUSTOMER,
        full_name=data["fullName"],
        id_number=data["idNumber"],
        mobile=data["mobile"],
        role=data["role"],
        auth_list=sorted(granted),
        trade_password=password_hash,
    )
    BankCard.objects.using(DB).create(
        account=account,
        bank_code=data["bankCode"],
        card_number=data["cardNumber"],
        balance=settings.BANK_SIMULATED_CARD_BALANCE,
    )
    return account
