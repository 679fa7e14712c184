"""An allocation application's key is kept with the allocation (``depository.idempotency``): the
same key with other terms is refused and changes nothing; two sends at once apply once."""

from __future__ import annotations

import pytest

from wanxin.allocation.models import Allocation, BankRequest
from wanxin.core.errors import Conflict
from wanxin.depository.models import IdempotencyKey
from wanxin.testing import at_once

from .conftest import allocation_customer, bank_balance
from .test_paying import DEPOSIT, RISK_FUND, _apply

pytestmark = pytest.mark.django_db(transaction=True, databases=["default", "bank"])


def test_the_same_key_with_other_terms_is_refused(live):
    user = allocation_customer(3_000_000)
    first = _apply(user, token="form-1")
    with pytest.raises(Conflict) as refused:
        _apply(user, token="form-1", pay_risk_fund=False)
    assert refused.value.code == "key_reused"
    assert list(Allocation.objects.filter(customer=user).values_list("pk", flat=True)) == [first.pk]
    assert IdempotencyKey.objects.get(user=user).object_id == first.pk


def test_two_sends_with_one_key_at_once_apply_once(live):
    user = allocation_customer(3_000_000)
    outcomes = at_once(lambda: _apply(user, token="twice").pk, 4)
    assert len(set(outcomes)) == 1, outcomes
    assert BankRequest.objects.filter(allocation__customer=user, purpose="DEPOSIT").count() == 1
    assert bank_balance(user.user_no)[1] == DEPOSIT + RISK_FUND
