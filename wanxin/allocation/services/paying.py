"""Applying and paying, and making up the risk fund.

Paying is a chain of bank requests, each issued when the previous one is final, so a
failure never leaves money half taken (their results are applied in ``results.py``):

1. ``USER_PRE_TRANSACTION`` ALLOCATION freezes the deposit;
2. then ``TRANSFER`` ALLOCATION_FEE takes the first fee to PLATFORM_INCOME;
3. then (when the customer pays both) another freeze holds the risk fund.
The allocation is ``PAID`` when all three are done, ``DEPOSIT_PAID`` without the risk
fund (chosen, or refused by the bank: the customer makes it up later), ``CANCELLED`` when
the deposit or the fee fails (the deposit, if frozen, is released with
``CANCEL_PRE_TRANSACTION``). The essentials go first so a short balance never strands them.

Each business change and its depository request commit together; the request is sent
after the commit. Lock order: allocation, then (in result handlers, after the depository
request ``result_apply`` holds) the customer's account mirror.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from wanxin.core.errors import Conflict
from wanxin.core.money import format_fen
from wanxin.depository import idempotency
from wanxin.funds.models import DepositoryAccount

from .. import domain, selectors
from ..errors import Invalid
from ..models import Allocation, BankRequest, FundRecord
from .common import Purpose, customer_only, freeze_issue, open_account, owned_locked

# -- applying and paying -------------------------------------------------------------------------------


@dataclass(frozen=True)
class ApplicationInput:
    product_id: int
    deposit: int
    multiple: int
    duration: int
    pay_risk_fund: bool = True
    token: str = ""


def allocation_apply(*, customer, data: ApplicationInput) -> Allocation:
    """Apply for an allocation and pay: the deposit is frozen first, then the first fee is
    charged, then the risk fund frozen when ``pay_risk_fund``. A resent form or API call with the
    same ``token`` returns the first allocation, even after a crash; the same token with other
    terms is refused (``depository.idempotency``)."""
    customer_only(customer)
    if len(data.token) > 64:
        raise Invalid(_("The idempotency key has at most 64 characters."), code="invalid_token")
    terms = {"product": data.product_id, "deposit": data.deposit, "multiple": data.multiple,
             "duration": data.duration, "pay_risk_fund": data.pay_risk_fund}
    return idempotency.submit_once(user=customer, scope="allocation.apply", key=data.token, request=terms,
                                   model=Allocation, prepare=lambda: _apply_checks(customer, data),
                                   create=lambda checked: _apply(customer, data, *checked))


def _apply_checks(customer, data: ApplicationInput):
    if type(data.product_id) is not int:
        raise Invalid(_("Choose a product by its id."), code="invalid_productId")
    account = open_account(customer)
    product = selectors.product_on_sale(data.product_id)
    quote = selectors.quote(product=product, deposit=data.deposit, multiple=data.multiple, duration=data.duration,
                            start=None)
    pay_now = quote.pay_now if data.pay_risk_fund else quote.deposit + quote.fee
    if account.available < pay_now:
        raise Conflict(_("Paying now takes %(pay)s; your available balance is %(available)s. Recharge first%(or)s.")
                       % {"pay": format_fen(pay_now), "available": format_fen(account.available),
                          "or": _(", or pay the deposit only") if data.pay_risk_fund else ""},
                       code="insufficient_balance")
    return product, quote


def _apply(customer, data: ApplicationInput, product, quote) -> Allocation:
    with transaction.atomic():
        allocation = Allocation.objects.create(
            allocation_no=f"AL{timezone.localtime().strftime('%Y%m%d')}{secrets.token_hex(4).upper()}",
            customer=customer, product=product, product_type=product.type, multiple=quote.multiple,
            rate=product.terms().rates[quote.multiple], duration=quote.duration,
            risk_fund_rate=product.risk_fund_rate, warning_pct=product.warning_pct,
            liquidation_pct=product.liquidation_pct, deposit=quote.deposit, allocated=quote.allocated,
            risk_fund=quote.risk_fund, fee=quote.fee, warning_line=quote.warning_line,
            liquidation_line=quote.liquidation_line, pays_risk_fund=data.pay_risk_fund)
        FundRecord.objects.create(allocation=allocation, kind=FundRecord.Kind.STATUS,
                                  status_to=domain.APPLIED, actor=customer)
        freeze_issue(allocation, Purpose.DEPOSIT, allocation.deposit)
    return allocation


def risk_fund_make_up(*, customer, allocation_id: int) -> BankRequest:
    """Freeze what is missing of the risk fund of an allocation paid deposit-only."""
    customer_only(customer)
    open_account(customer)
    with transaction.atomic():
        allocation = owned_locked(customer, allocation_id)
        if allocation.status != domain.DEPOSIT_PAID or allocation.risk_fund_due <= 0:
            raise Conflict(_("There is no risk fund to make up on this allocation."), code="bad_status")
        if allocation.bank_requests.filter(purpose=Purpose.RISK_FUND, status="PENDING").exists():
            raise Conflict(_("The risk fund is already on its way to the bank; wait a moment."), code="pending")
        account = DepositoryAccount.objects.get(user=customer)
        if account.available < allocation.risk_fund_due:
            raise Conflict(_("Making up the risk fund takes %(due)s; your available balance is %(available)s.")
                           % {"due": format_fen(allocation.risk_fund_due), "available": format_fen(account.available)},
                           code="insufficient_balance")
        return freeze_issue(allocation, Purpose.RISK_FUND, allocation.risk_fund_due)
