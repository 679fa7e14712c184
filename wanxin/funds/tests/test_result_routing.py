"""A funds request names its owner (the customer's depository account), and its result goes
to funds' handler only; a result whose owner is gone is counted and changes nothing
(docs/decisions/0004)."""

from __future__ import annotations

import pytest

from wanxin.depository.models import IgnoredBankResult
from wanxin.funds import services
from wanxin.funds.models import DepositoryAccount, FundRecord

from .conftest import at_bank, deliver, open_account, replay_notifications

pytestmark = pytest.mark.django_db(transaction=True, databases=["default", "bank"])


def test_a_recharge_whose_account_is_gone_is_counted_and_changes_nothing(live, customer):
    account = open_account(customer)
    record = services.recharge_start(user=customer, amount=50_000)
    assert (record.owner_type, record.owner_id) == ("funds.depositoryaccount", account.pk)
    DepositoryAccount.objects.filter(pk=account.pk).delete()

    at_bank(record)
    assert deliver() == 1
    record.refresh_from_db()
    assert record.status == "SUCCESS"  # settled once: later copies are not applied again
    assert not FundRecord.objects.filter(request_no=record.request_no).exists()
    assert list(IgnoredBankResult.objects.filter(request_no=record.request_no).values_list("reason", flat=True)) == [
        "OWNER_GONE"]

    assert replay_notifications(record.request_no) == 1
    assert not FundRecord.objects.filter(request_no=record.request_no).exists()
    assert list(IgnoredBankResult.objects.filter(request_no=record.request_no).values_list("reason", flat=True)) == [
        "OWNER_GONE", "REPEATED"]
