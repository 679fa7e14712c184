"""Test helpers that drive the bank's gateway flows without a browser (same code paths)."""

from __future__ import annotations

import time
from typing import Any

from django.conf import settings

from wanxin.bank import gateway
from wanxin.bank.models import BankRequest
from wanxin.core.ids import new_request_no
from wanxin.protocol import envelope, messages

TRADE_PASSWORD = "135790"


def gateway_envelope(private_key, service: str, data: dict[str, Any]) -> dict[str, str]:
    data = {"requestNo": new_request_no("G"), "timestamp": int(time.time() * 1000),
            "callbackUrl": "http://127.0.0.1:1/callback", **data}
    return envelope.build_request(private_key, service_name=service, platform_no=settings.PLATFORM_NO,
                                  data=data).as_dict()


def run_gateway(private_key, service: str, data: dict[str, Any], **form: Any) -> BankRequest:
    page = gateway.open_request(gateway_envelope(private_key, service, data))
    if not page.finished:
        page = gateway.confirm(page.req.pk, {"action": "confirm", "password": TRADE_PASSWORD,
                                             "password_again": TRADE_PASSWORD, **form})
    page.req.refresh_from_db()
    return page.req


def open_account(private_key, user_no: str, *, auth: list[str] | None = None, id_suffix: str | None = None,
                 role: str = "BOTH") -> BankRequest:
    auth = list(messages.AUTH_TYPES) if auth is None else auth
    digits = (id_suffix or str(abs(hash(user_no)))).rjust(8, "0")[-8:]
    return run_gateway(
        private_key,
        "PERSONAL_REGISTER",
        {"userNo": user_no, "fullName": "Zhang San", "idNumber": f"1101011990{digits}",
         "mobile": "13800138000", "role": role, "bankCode": "ICBC", "cardNumber": "6222020200112233445",
         "authList": auth},
        auth=auth,
    )


def recharge(private_key, user_no: str, amount: int) -> BankRequest:
    return run_gateway(private_key, "RECHARGE", {"userNo": user_no, "amount": amount})


def withdraw(private_key, user_no: str, amount: int, commission: int = 0) -> BankRequest:
    return run_gateway(private_key, "WITHDRAW", {"userNo": user_no, "amount": amount, "commission": commission})
