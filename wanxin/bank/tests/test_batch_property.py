"""Property: for any list of items, a BATCH gives each item exactly the result it gets when
the same items are sent alone, one after another, to a twin set of customers; balances
end equal and the ledger stays sound. Service layer (the view's code paths), no HTTP."""

from __future__ import annotations

import itertools
import json
import re
import secrets
import time
from typing import Any

import pytest
from django.conf import settings
from hypothesis import HealthCheck, given
from hypothesis import settings as hsettings
from hypothesis import strategies as st

from wanxin.bank import batch, handlers, invariants, processing
from wanxin.bank.models import Account
from wanxin.bank.tests.helpers import open_account, recharge
from wanxin.protocol import envelope, messages, signing

pytestmark = [pytest.mark.slow, pytest.mark.django_db(transaction=True, databases=["default", "bank"])]
DB = "bank"
_examples = itertools.count(1)
_run = secrets.token_hex(2)

# An item: (kind, customer 0/1, amount, index of an earlier freeze item it refers to).
item_lists = st.lists(
    st.tuples(st.sampled_from(["freeze", "freeze", "post", "cancel", "balance", "query", "bad"]),
              st.integers(0, 1), st.integers(1, 4_000), st.integers(0, 11)),
    min_size=1, max_size=12)


def build(spec: list[tuple[str, int, int, int]], side: str) -> list[tuple[str, dict[str, Any]]]:
    items: list[tuple[str, dict[str, Any]]] = []
    freezes: list[str] = []
    for n, (kind, who, amount, ref) in enumerate(spec):
        rn, user = f"{side}r{n}", f"{side}u{who}"
        target = freezes[ref % len(freezes)] if freezes else f"{side}r99"
        if kind == "freeze":
            freezes.append(rn)
            items.append(("USER_PRE_TRANSACTION", {"requestNo": rn, "userNo": user, "bizType": "ALLOCATION",
                                                   "amount": amount}))
        elif kind == "post":
            items.append(("TRANSFER", {"requestNo": rn, "bizType": "ALLOCATION_FEE", "payer": user,
                                       "payee": "PLATFORM_INCOME", "amount": amount // 4 + 1,
                                       "preRequestNo": target}))
        elif kind == "cancel":
            items.append(("CANCEL_PRE_TRANSACTION", {"requestNo": rn, "preRequestNo": target}))
        elif kind == "balance":
            items.append(("QUERY_BALANCE", {"requestNo": rn, "userNo": user}))
        elif kind == "query":
            items.append(("QUERY_REQUEST", {"requestNo": rn, "queryRequestNo": f"{side}r{ref}"}))
        else:
            items.append(("USER_PRE_TRANSACTION", {"requestNo": rn, "userNo": user, "bizType": "ALLOCATION",
                                                   "amount": -amount}))
    return items


def verified(key, service: str, data: dict[str, Any]) -> processing.Verified:
    data = {**data, "timestamp": int(time.time() * 1000)}
    env = envelope.build_request(key, service_name=service, platform_no=settings.PLATFORM_NO, data=data).as_dict()
    return processing.verify(env, allowed=messages.DIRECT_SERVICES)


def alone(key, service: str, data: dict[str, Any]) -> dict[str, Any]:
    try:
        v = verified(key, service, data)
    except messages.ProtocolError as exc:
        return processing.response_data(data["requestNo"], exc.code, exc.message)
    return processing.execute_direct(v, handlers.DIRECT[service])


def normalised(results: list[dict[str, Any]], side: str) -> str:
    text = json.dumps(results, sort_keys=True)
    return re.sub(rf'(["\s]){side}', r"\1", text)


def balances(side: str) -> list[tuple[int, int]]:
    return [tuple(Account.objects.using(DB).filter(account_no=f"{side}u{w}").values_list("available", "frozen")[0])
            for w in (0, 1)]


@hsettings(max_examples=8, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(spec=item_lists)
def test_a_batch_gives_every_item_its_result_alone(spec, settings):
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    key = signing.load_private_key(settings.PLATFORM_PRIVATE_KEY)
    n = next(_examples)
    sides = {f"S{_run}x{n}", f"B{_run}x{n}"}
    single, batched = sorted(sides, reverse=True)  # "S…", "B…"
    for s, side in enumerate((single, batched)):
        for w in (0, 1):
            assert open_account(key, f"{side}u{w}", id_suffix=f"{n:04d}{s}{w}{secrets.randbelow(99):02d}").status \
                == "SUCCESS"
            assert recharge(key, f"{side}u{w}", 10_000).status == "SUCCESS"

    one_by_one = [alone(key, service, data) for service, data in build(spec, single)]
    items = [{"serviceName": s, "data": d} for s, d in build(spec, batched)]
    answer = batch.execute_batch(verified(key, "BATCH", {"requestNo": f"{batched}b", "items": items}))

    assert answer["respCode"] == "00000", answer
    assert normalised(answer["results"], batched) == normalised(one_by_one, single)
    assert balances(batched) == balances(single)
    assert invariants.total_balance() == 0
    assert invariants.replay_mismatches() == []
