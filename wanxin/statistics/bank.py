"""Money under depository, as the bank says: the bank's balance file (PROTOCOL §6,
``DOWNLOAD_STATEMENT`` kind ``BALANCES``) of the last closed business day of the range, fetched
through the depository app and proved whole (base64, sha256, header, row count) by the same
check reconciliation uses. The bank writes files only for past days, so a range ending today
shows yesterday's close, and says so."""

from __future__ import annotations

import csv
import datetime as dt
import io
from dataclasses import dataclass

from django.utils.translation import gettext as _

from wanxin.depository import services as depository
from wanxin.depository.client import BankClient, BankUnavailable
from wanxin.protocol.codes import ProtocolError
from wanxin.reconciliation import domain as recon_domain


@dataclass(frozen=True)
class Depository:
    day: dt.date  # the close the figures are of
    customers_available: int = 0
    customers_frozen: int = 0
    customer_accounts: int = 0
    platform_income: int = 0
    platform_capital: int = 0
    error: str = ""  # why the bank's figures are missing

    @property
    def customers_total(self) -> int:
        return self.customers_available + self.customers_frozen


def close_of(date_to: dt.date, today: dt.date) -> dt.date:
    return min(date_to, today - dt.timedelta(days=1))


def under_depository(day: dt.date, *, client: BankClient | None = None) -> Depository:
    try:
        answer = depository.statement_download(date=day.isoformat(), kind="BALANCES", client=client)
        verified = recon_domain.verified_file(answer, header=recon_domain.BALANCE_HEADER)
    except BankUnavailable:
        return Depository(day, error=_("The bank did not answer; try again later."))
    except ProtocolError as exc:
        return Depository(day, error=_("The bank refused to send the file: %(msg)s") % {"msg": exc.message})
    except recon_domain.FileRefused as exc:
        return Depository(day, error=_("The bank's file was refused: %(why)s") % {"why": exc})
    try:
        return _summed(day, verified.content)
    except (KeyError, TypeError, ValueError, UnicodeDecodeError):
        return Depository(day, error=_("The bank's file was refused: %(why)s") % {"why": _("a malformed row")})


def _summed(day: dt.date, content: bytes) -> Depository:
    available = frozen = accounts = income = capital = 0
    # One row per account of the platform: summed as it is read.
    for row in csv.DictReader(io.StringIO(content.decode("utf-8"))):
        balance = (int(row["available"]), int(row["frozen"]))
        if row["userNo"] == recon_domain.PLATFORM_INCOME:
            income = sum(balance)
        elif row["userNo"] == recon_domain.PLATFORM_CAPITAL:
            capital = sum(balance)
        else:
            available, frozen, accounts = available + balance[0], frozen + balance[1], accounts + 1
    return Depository(day, available, frozen, accounts, income, capital)
