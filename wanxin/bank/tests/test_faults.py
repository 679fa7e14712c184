"""00001 and 00002 with real faults: a lock the bank cannot get in time, a page left open."""

from __future__ import annotations

import psycopg
import pytest
from django.db import connections

from wanxin.bank import gateway
from wanxin.bank.models import Account, BankRequest
from wanxin.bank.tests.helpers import gateway_envelope, open_account, recharge
from wanxin.protocol import codes

pytestmark = pytest.mark.django_db(transaction=True, databases=["default", "bank"])


def _conninfo() -> dict:
    s = connections["bank"].settings_dict
    return {"dbname": s["NAME"], "user": s["USER"], "host": s["HOST"], "port": s["PORT"] or None,
            "password": s["PASSWORD"] or None}


def test_system_error_is_00001_not_recorded_and_retry_succeeds(bank, platform_key):
    open_account(platform_key, "locked1", id_suffix="00000101")
    recharge(platform_key, "locked1", 10_000)
    info = _conninfo()
    env = bank.envelope("USER_PRE_TRANSACTION", {"userNo": "locked1", "bizType": "ALLOCATION", "amount": 500})
    with psycopg.connect(**info, autocommit=True) as admin:
        admin.execute(f'ALTER DATABASE "{info["dbname"]}" SET lock_timeout = \'300ms\'')
        try:
            with psycopg.connect(**info) as holder:
                holder.execute("SELECT 1 FROM bank_account WHERE account_no = 'locked1' FOR UPDATE")
                resp = bank.open(bank.post(env))
                assert resp["respCode"] == codes.SYSTEM_ERROR
                assert not BankRequest.objects.using("bank").filter(request_no=resp["requestNo"]).exists()
                holder.rollback()
        finally:
            admin.execute(f'ALTER DATABASE "{info["dbname"]}" RESET lock_timeout')
    again = bank.open(bank.post(env))
    assert again["respCode"] == codes.SUCCESS
    account = Account.objects.using("bank").get(account_no="locked1")
    assert (account.available, account.frozen) == (9_500, 500)


def test_gateway_request_waiting_for_customer_queries_as_00002(bank, platform_key):
    open_account(platform_key, "waiter", id_suffix="00000102")
    page = gateway.open_request(gateway_envelope(platform_key, "RECHARGE", {"userNo": "waiter", "amount": 100}))
    assert not page.finished
    looked = bank.call("QUERY_REQUEST", queryRequestNo=page.req.request_no)
    assert looked["respCode"] == codes.SUCCESS
    assert (looked["result"]["respCode"], looked["result"]["status"]) == (codes.PROCESSING, "PROCESSING")
