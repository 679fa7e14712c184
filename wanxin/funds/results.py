"""What a bank result does to funds: one handler per (owner, service), in one table that
``FundsConfig.ready`` registers with the depository's dispatcher (decision record 0004).

Every funds request is owned by the customer's ``DepositoryAccount``."""

from __future__ import annotations

from django.utils import timezone

from wanxin.depository.models import DepositoryRequest
from wanxin.depository.results import OwnerGone, ResultHandler, Route, owner_type_of

from . import domain, locks
from .balances import _invalidate_balance
from .ledger import fund_events_apply
from .models import DepositoryAccount
from .services import _transition

ACCOUNT = owner_type_of(DepositoryAccount)


def _account(record: DepositoryRequest) -> DepositoryAccount:
    account = locks.account_lock(record.owner_id)
    if account is None:
        raise OwnerGone(record.request_no)
    return account


def _on_register_result(record: DepositoryRequest) -> None:
    account = _account(record)
    if account.request_no != record.request_no or account.status != DepositoryAccount.Status.PENDING:
        return  # an earlier attempt's late answer, or (never) already settled
    if record.status == DepositoryRequest.Status.SUCCESS:
        _transition(account, DepositoryAccount.Status.OPEN)
        account.auth_list = sorted((record.response or {}).get("authList", []))
        account.opened_at = timezone.now()
    else:
        _transition(account, DepositoryAccount.Status.FAILED)
        account.fail_reason = f"{record.resp_msg} ({record.resp_code})"[:300]
    account.save(update_fields=["status", "auth_list", "opened_at", "fail_reason", "updated_at"])


def _account_exists(record: DepositoryRequest) -> None:
    # fund_events_apply skips a user_no without an account: say so instead.
    if not DepositoryAccount.objects.filter(pk=record.owner_id).exists():
        raise OwnerGone(record.request_no)


def _on_recharge_result(record: DepositoryRequest) -> None:
    _account_exists(record)
    if record.status == DepositoryRequest.Status.SUCCESS:
        fund_events_apply(user_no=record.user_no, request_no=record.request_no,
                          events=domain.recharge_events(int(record.payload["amount"])))
    _invalidate_balance(record.user_no)


def _on_withdraw_result(record: DepositoryRequest) -> None:
    _account_exists(record)
    if record.status == DepositoryRequest.Status.SUCCESS:
        fund_events_apply(user_no=record.user_no, request_no=record.request_no,
                          events=domain.withdraw_events(int(record.payload["amount"]),
                                                        int(record.payload["commission"])))
    _invalidate_balance(record.user_no)


RESULTS: dict[Route, ResultHandler] = {
    (ACCOUNT, "PERSONAL_REGISTER"): _on_register_result,
    (ACCOUNT, "RECHARGE"): _on_recharge_result,
    (ACCOUNT, "WITHDRAW"): _on_withdraw_result,
}
