"""Finding bank accounts; system accounts are created on first use."""

from __future__ import annotations

import json

from django.conf import settings
from django.db import IntegrityError, connections, transaction

from wanxin.protocol import codes, messages

from .models import Account, BankCard
from .processing import DB, BusinessError

SYSTEM_KINDS = {
    messages.PLATFORM_INCOME: Account.Kind.PLATFORM_INCOME,
    messages.PLATFORM_CAPITAL: Account.Kind.PLATFORM_CAPITAL,
    "CARD_NETWORK": Account.Kind.CARD_NETWORK,
}


# The columns the request handlers read, in model field order (``Model.from_db`` wants
# that); any other field of a returned Account is loaded from the database on access.
_COLUMNS = ["id", "platform_no", "account_no", "kind", "status", "available", "frozen", "auth_list"]
_SELECT = f"SELECT {', '.join(_COLUMNS)} FROM bank_account WHERE platform_no = %s AND account_no = ANY(%s)"  # noqa: S608 (constant columns)


def _fetch(platform_no: str, account_nos: list[str], *, lock: bool = False) -> dict[str, Account]:
    """Accounts by number, one fixed statement (the ORM's compilation cost more than the query)."""
    with connections[DB].cursor() as cur:
        cur.execute(_SELECT + (" FOR UPDATE" if lock else ""), [platform_no, account_nos])
        rows = cur.fetchall()
    found = {}
    for row in rows:
        account = Account.from_db(DB, _COLUMNS, row)
        if isinstance(account.auth_list, str):  # jsonb arrives as text through Django's cursor
            account.auth_list = json.loads(account.auth_list)
        found[account.account_no] = account
    return found


def _open_customer(account: Account | None, user_no: str) -> Account:
    if account is None or account.kind != Account.Kind.CUSTOMER or account.status != Account.Status.OPEN:
        raise BusinessError(codes.ACCOUNT_NOT_FOUND, f"no open account for {user_no}")
    return account


def system(platform_no: str, kind: str) -> Account:
    account = _fetch(platform_no, [kind]).get(kind)
    if account is not None:
        return account
    try:
        with transaction.atomic(using=DB):
            return Account.objects.using(DB).create(platform_no=platform_no, account_no=kind, kind=kind)
    except IntegrityError:  # created concurrently
        return Account.objects.using(DB).get(platform_no=platform_no, account_no=kind)


def customer(platform_no: str, user_no: str, *, lock: bool = False) -> Account:
    return _open_customer(_fetch(platform_no, [user_no], lock=lock).get(user_no), user_no)


def customers(platform_no: str, user_nos: set[str]) -> dict[str, Account]:
    found = _fetch(platform_no, sorted(user_nos))
    for user_no in sorted(user_nos):
        _open_customer(found.get(user_no), user_no)
    return found


def any_account(platform_no: str, account_no: str) -> Account:
    return any_accounts(platform_no, account_no)[0]


def any_accounts(platform_no: str, *account_nos: str) -> list[Account]:
    """Customer or platform accounts by number, read together; refused in the order given."""
    found = _fetch(platform_no, list(account_nos))
    result = []
    for account_no in account_nos:
        if account_no in (messages.PLATFORM_INCOME, messages.PLATFORM_CAPITAL):
            account = found.get(account_no) or system(platform_no, SYSTEM_KINDS[account_no])
        else:
            account = _open_customer(found.get(account_no), account_no)
        result.append(account)
    return result


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
