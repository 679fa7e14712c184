"""Fund records: the money events of a request recorded, and the platform's mirror balances
moved, in one statement per kind whatever their number (DESIGN §4)."""

from __future__ import annotations

import datetime as dt
import logging
from dataclasses import dataclass

from django.db import IntegrityError, connection, transaction
from django.utils import timezone

from wanxin.rows import insert_many

from . import domain
from .balances import _invalidate_balance
from .domain import MoneyEvent
from .models import DepositoryAccount, FundRecord

log = logging.getLogger("wanxin.funds")

# A batch builds its records positionally (no per-field defaults: a third of the cost): in this order.
_RECORD_FIELDS = ["id", "user_id", "type", "amount", "available_after", "frozen_after", "request_no", "remark",
                  "created_at"]
if [f.attname for f in FundRecord._meta.concrete_fields] != _RECORD_FIELDS:  # not an assert: kept under -O
    raise RuntimeError("FundRecord's fields changed: update _RECORD_FIELDS and _apply_batch")


def fund_events_apply(*, user_no: str, request_no: str, events: list[MoneyEvent],
                      at: dt.datetime | None = None) -> list[FundRecord]:
    """Record money events of one request and move the platform's mirror balances with one
    ``UPDATE … RETURNING`` statement. Call inside the result handler's transaction; a
    replay (same request_no and type) changes nothing and returns ``[]``.

    Other apps (lending, repayments, allocation) record their events through this."""
    try:
        return _apply_batch([FundEvents(user_no, request_no, events)], at or timezone.now())
    except IntegrityError:
        log.info("fund records of %s already exist; nothing added", request_no)
        return []


@dataclass(frozen=True)
class FundEvents:
    """The money events of one request for one customer (an item of ``fund_events_apply_many``)."""

    user_no: str
    request_no: str
    events: list[MoneyEvent]


def fund_events_apply_many(items: list[FundEvents], *, at: dt.datetime | None = None) -> list[FundRecord]:
    """``fund_events_apply`` for several customers and requests at once, in three statements
    whatever their number. Same results as calling it for each item in turn; if any item is
    a replay the batch is undone and every item applied one by one, so the replay alone
    changes nothing. Call inside the result handler's transaction."""
    at = at or timezone.now()
    try:
        return _apply_batch(items, at)
    except IntegrityError:
        log.info("fund records of some of %s already exist; applying one by one",
                 ", ".join(item.request_no for item in items))
        return [record for item in items for record in
                fund_events_apply(user_no=item.user_no, request_no=item.request_no, events=item.events, at=at)]


def _apply_batch(items: list[FundEvents], at: dt.datetime) -> list[FundRecord]:
    """The accounts read under their row locks in id order (two batches over the same
    accounts never deadlock), one ``UPDATE … FROM (VALUES …) RETURNING`` moving every mirror
    balance by its deltas, one INSERT of every record with its exact balances after (items
    of one account follow each other in the given order). A customer without an account is
    skipped. Raises IntegrityError, with nothing changed, if a record already exists."""
    items = [item for item in items if item.events]
    if not items:
        return []
    table = DepositoryAccount._meta.db_table
    with transaction.atomic():
        with connection.cursor() as cursor:
            cursor.execute(f"SELECT id, user_id, user_no FROM {table} WHERE user_no = ANY(%s) "  # noqa: S608
                           "ORDER BY id FOR UPDATE", [sorted({item.user_no for item in items})])
            owners = {no: (pk, user_id) for pk, user_id, no in cursor.fetchall()}
            per_account: dict[int, list[MoneyEvent]] = {}
            for item in items:
                if item.user_no not in owners:
                    log.info("no funds account for %s; %s not recorded", item.user_no, item.request_no)
                    continue
                per_account.setdefault(owners[item.user_no][0], []).extend(item.events)
            if not per_account:
                return []
            rows = [(pk, sum(e.available_delta for e in evs), sum(e.frozen_delta for e in evs))
                    for pk, evs in sorted(per_account.items())]
            values = ", ".join(["(%s::bigint, %s::bigint, %s::bigint)"] * len(rows))
            cursor.execute(
                f"UPDATE {table} AS t SET available = t.available + v.da, "  # noqa: S608
                f"frozen = t.frozen + v.df, updated_at = %s FROM (VALUES {values}) AS v(id, da, df) "
                "WHERE t.id = v.id RETURNING t.id, t.available, t.frozen",
                [at, *(x for row in rows for x in row)],
            )
            after = {pk: (available, frozen) for pk, available, frozen in cursor.fetchall()}
        afters = {pk: iter(domain.balances_after(*after[pk], evs)) for pk, evs in per_account.items()}
        records = []
        for item in items:
            if item.user_no not in owners:
                continue
            pk, user_id = owners[item.user_no]
            for e in item.events:
                a, f = next(afters[pk])
                records.append(FundRecord(None, user_id, e.type, e.amount, a, f, item.request_no,
                                          e.remark[:200], at))
        records = insert_many(records)
    _invalidate_balance(*(item.user_no for item in items if item.user_no in owners))
    return records
