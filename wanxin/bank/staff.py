"""Operations the bank's own staff perform from the console."""

from __future__ import annotations

from django.db import transaction
from django.utils import timezone

from wanxin.core.ids import new_request_no
from wanxin.protocol import codes

from . import accounts
from .ledger import Posting
from .models import Account, BankRequest
from .processing import DB


def fund_platform_capital(*, platform_no: str, amount: int, staff: str) -> BankRequest:
    """Move money from outside (the card network) into the platform's capital account."""
    if type(amount) is not int or amount <= 0:
        raise ValueError("amount must be a positive number of fen")
    with transaction.atomic(using=DB):
        req = BankRequest.objects.using(DB).create(
            platform_no=platform_no,
            request_no=new_request_no("STAFF"),
            service_name="STAFF_FUNDING",
            digest="",
            req_data={"amount": amount, "staff": staff},
            status=BankRequest.Status.SUCCESS,
            resp_code=codes.SUCCESS,
            biz_type="CAPITAL_FUNDING",
            user_no="PLATFORM_CAPITAL",
            counterparty="CARD",
            amount=amount,
            commission=0,
            moved_money=True,
            finished_at=timezone.now(),
        )
        posting = Posting(req)
        posting.transfer(
            accounts.system(platform_no, Account.Kind.CARD_NETWORK),
            accounts.system(platform_no, Account.Kind.PLATFORM_CAPITAL),
            amount,
        )
        posting.apply()
        req.response = {"requestNo": req.request_no, "respCode": codes.SUCCESS, "status": "SUCCESS",
                        "respMsg": "funded", "amount": amount}
        req.save(using=DB, update_fields=["response"])
    return req
