"""A customer's balances as the bank reports them (cached briefly), and dropping the cached
ones when a money result moves them."""

from __future__ import annotations

import datetime as dt
import logging
from dataclasses import dataclass

from django.conf import settings
from django.core.cache import cache
from django.db import connection, transaction
from django.utils import timezone

from wanxin.depository import services as depository
from wanxin.depository.models import DepositoryRequest
from wanxin.protocol.codes import ProtocolError

from .models import DepositoryAccount

log = logging.getLogger("wanxin.funds")


def _cache_key(*parts: object) -> str:
    return settings.FUNDS_CACHE_PREFIX + ":".join(str(p) for p in parts)


def balance_cache_key(user_no: str) -> str:
    return _cache_key("balance", connection.settings_dict["NAME"], user_no)


@dataclass(frozen=True)
class Balance:
    available: int
    frozen: int
    source: str  # "bank" (QUERY_BALANCE, cached briefly) or "platform" (the mirror, bank unreachable)
    as_of: dt.datetime

    @property
    def total(self) -> int:
        return self.available + self.frozen


def balance_get(*, account: DepositoryAccount, fresh: bool = False) -> Balance:
    """The bank's balances of an open account, from ``QUERY_BALANCE``, cached for
    ``FUNDS_BALANCE_CACHE_SECONDS``; the platform's mirror when the bank does not answer."""
    key = balance_cache_key(account.user_no)
    cached = None if fresh else cache.get(key)
    if cached is not None:
        return Balance(cached[0], cached[1], "bank", dt.datetime.fromisoformat(cached[2]))
    record = None
    if connection.in_atomic_block:
        # The bank is only called after a commit (depository.request_send refuses otherwise).
        log.info("balance of %s asked inside a transaction: the platform's mirror answers", account.user_no)
    else:
        try:
            record = depository.direct_call(service_name="QUERY_BALANCE", payload={"userNo": account.user_no},
                                            user_no=account.user_no)
        except (ProtocolError, OSError) as exc:
            log.warning("balance query for %s failed: %s", account.user_no, exc)
    if record is not None and record.status == DepositoryRequest.Status.SUCCESS:
        now = timezone.now()
        available, frozen = int(record.response["available"]), int(record.response["frozen"])
        cache.set(key, (available, frozen, now.isoformat()), settings.FUNDS_BALANCE_CACHE_SECONDS)
        return Balance(available, frozen, "bank", now)
    mirror = DepositoryAccount.objects.values_list("available", "frozen", "updated_at").get(pk=account.pk)
    return Balance(mirror[0], mirror[1], "platform", mirror[2])


def _invalidate_balance(*user_nos: str) -> None:
    """Drop the cached bank balances of ``user_nos`` once the current transaction commits
    (at once outside one): the money result that moved them is then visible, and a reader
    that cached the bank's answer meanwhile is dropped too. Every key of a transaction goes
    in one ``delete_many`` at its commit; a rolled-back transaction's keys are simply
    deleted at the next commit on this connection (a harmless extra delete)."""
    conn = transaction.get_connection()  # this thread's connection (``connection`` is a shared proxy)
    pending = getattr(conn, "_wanxin_balance_keys", None)
    if pending is None:
        pending = conn._wanxin_balance_keys = set()
    pending.update(balance_cache_key(no) for no in user_nos)
    transaction.on_commit(_flush_balance_keys)


def _flush_balance_keys() -> None:
    pending = getattr(transaction.get_connection(), "_wanxin_balance_keys", None)
    if not pending:
        return  # an earlier callback of the same commit took them
    keys = list(pending)
    pending.clear()
    cache.delete_many(keys)
