"""One dispatcher routes a final result to the one handler of its (owner type, service)
(docs/decisions/0004). Bad input changes nothing twice and is logged and counted:
a result no handler owns (an error under test), a result that arrives again or contradicts
the applied one."""

from __future__ import annotations

import pytest

from wanxin.depository import services
from wanxin.depository.models import DepositoryRequest, IgnoredBankResult
from wanxin.depository.results import UnroutedResult
from wanxin.protocol import codes

from .conftest import create, freeze_payload

pytestmark = pytest.mark.django_db(transaction=True, databases=["default", "bank"])


def ignored() -> list[tuple[str, str, str, str]]:
    return list(IgnoredBankResult.objects.order_by("id").values_list("reason", "resp_code", "request_no", "source"))


def snapshot(record: DepositoryRequest) -> dict:
    record.refresh_from_db()
    return {f.attname: getattr(record, f.attname) for f in record._meta.concrete_fields}


def owned_by_nobody(customer: str, amount: int) -> DepositoryRequest:
    """A freeze whose owner type no app registered a handler for."""
    record = create("USER_PRE_TRANSACTION", freeze_payload(customer, amount), user_no=customer, amount=amount)
    DepositoryRequest.objects.filter(pk=record.pk).update(owner_type="nowhere.nothing", owner_id=1)
    record.refresh_from_db()
    return record


def test_a_result_no_handler_owns_is_an_error_under_test(customer):
    record = owned_by_nobody(customer, 1_000)
    with pytest.raises(UnroutedResult, match="USER_PRE_TRANSACTION"):
        services.request_send(record=record)
    record.refresh_from_db()
    assert record.status == "PENDING"  # rolled back with the error, nothing applied
    assert ignored() == []


def test_elsewhere_a_result_no_handler_owns_is_applied_logged_and_counted(customer, settings, caplog):
    settings.DEPOSITORY_UNROUTED_RAISES = False
    record = owned_by_nobody(customer, 2_000)
    services.request_send(record=record)
    record.refresh_from_db()
    assert record.status == "SUCCESS"
    assert ignored() == [("UNROUTED", codes.SUCCESS, record.request_no, "sync")]
    assert "has no handler" in caplog.text


def test_a_result_that_arrives_again_changes_nothing_and_is_counted(customer, handled):
    counter = handled("USER_PRE_TRANSACTION")
    record = create("USER_PRE_TRANSACTION", freeze_payload(customer, 3_000), user_no=customer, amount=3_000)
    services.request_send(record=record)
    settled = snapshot(record)
    assert settled["status"] == "SUCCESS"

    assert services.result_apply(resp_data=settled["response"], source="notify").pk == record.pk
    refusal = {**settled["response"], "respCode": codes.INSUFFICIENT_BALANCE, "status": "FAIL"}
    services.result_apply(resp_data=refusal, source="query")

    assert snapshot(record) == settled
    assert len(counter.calls_for(record.request_no)) == 1
    assert ignored() == [("REPEATED", codes.SUCCESS, record.request_no, "notify"),
                         ("CONTRADICTED", codes.INSUFFICIENT_BALANCE, record.request_no, "query")]
