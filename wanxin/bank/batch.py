"""The ``BATCH`` service (PROTOCOL §5a): many direct requests under one signature and one
commit, each item run exactly as if it had been sent alone.

How the one transaction keeps every item independent:
- Every new item's requestNo is claimed up front, by one multi-row INSERT in requestNo
  order (concurrent batches claim overlapping requestNos in the same order: no deadlock);
  a requestNo already recorded replays its stored result (§3: other data is ``00006``).
- Then every row the items will lock is locked, once, in the bank's global lock order
  (projects, freezes, customer accounts, each by primary key; ledger.py): items run in
  list order and each sees the effects of the earlier ones, but no item waits for a lock
  in an order another transaction could reverse. Platform accounts (hot rows) stay last,
  per item, as for single requests.
- Each item runs in its own savepoint through the single-request pipeline
  (``processing.run_handler``): a refusal rolls back that item's effects only and stores
  its own failure; its statement columns and history rows are its own.
- The batch's response is stored on the batch's own row, and the client is answered only
  after COMMIT. Items whose fields are bad get their own ``00003`` and are not recorded.
"""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass
from typing import Any

from django.db import connections, transaction
from django.utils import timezone

from wanxin.protocol import codes, envelope, messages
from wanxin.protocol.codes import ProtocolError

from . import handlers, processing
from .models import BankRequest, Notification
from .processing import DB, BusinessError, Verified

log = logging.getLogger("wanxin.bank")


@dataclass
class Item:
    service: str
    request_no: str
    data: dict[str, Any]  # cleaned
    digest: str
    pk: int | None = None  # set when this batch recorded it


def execute_batch(v: Verified) -> dict[str, Any]:
    """Run a verified BATCH; returns the batch's respData (stored, or replayed)."""
    checked: list[Item | dict[str, Any]] = [_check(raw) for raw in v.data["items"]]
    items = [i for i in checked if isinstance(i, Item)]
    try:
        with transaction.atomic(using=DB):
            batch_req, created = processing.claim(v)
            if not created:
                return processing.replay(batch_req, v)
            stored = _claim_items(v.platform.platform_no, items)
            _lock_rows(v.platform.platform_no, [i for i in items if i.pk is not None])
            results = _run(v.platform.platform_no, checked, stored)
            return processing.finish(batch_req, codes.SUCCESS, None, {"results": results})
    except Exception:
        # Nothing was recorded, neither the batch nor any item: the platform may retry.
        log.exception("system error on BATCH %s", v.data.get("requestNo"))
        return processing.response_data(v.data["requestNo"], codes.SYSTEM_ERROR)


def _check(raw: dict[str, Any]) -> Item | dict[str, Any]:
    """An item ready to run, or its own unrecorded 00003 result (§3)."""
    try:
        data = messages.validate_item(raw["serviceName"], raw["data"])
    except ProtocolError as exc:
        request_no = raw["data"].get("requestNo")
        echo = request_no[:64] if isinstance(request_no, str) else ""
        return processing.response_data(echo, exc.code, exc.message)
    # The item's "reqData" for §3 is the item object itself, in the canonical encoding.
    return Item(raw["serviceName"], data["requestNo"], data, envelope.digest(envelope.encode_data(raw)))


_CLAIM_ITEMS = (
    "INSERT INTO bank_bankrequest (platform_no, request_no, service_name, digest, req_data, status, resp_code, "
    "biz_type, user_no, counterparty, moved_money, created_at) "
    "SELECT %s, r, s, d, q::jsonb, 'PROCESSING', '', '', '', '', false, now() "
    "FROM unnest(%s::text[], %s::text[], %s::text[], %s::text[]) AS t(r, s, d, q) ORDER BY r "
    "ON CONFLICT (platform_no, request_no) DO NOTHING RETURNING request_no, id"
)
_STORED = (
    "SELECT request_no, digest, status, response FROM bank_bankrequest "
    "WHERE platform_no = %s AND request_no = ANY(%s)"
)


def _claim_items(platform_no: str, items: list[Item]) -> dict[str, tuple[str, str, Any]]:
    """Claim every item's requestNo in one statement; returns the rows recorded before
    (requestNo → digest, status, response). Sets ``pk`` on the items claimed now."""
    if not items:
        return {}
    with connections[DB].cursor() as cur:
        cur.execute(_CLAIM_ITEMS, [platform_no, [i.request_no for i in items], [i.service for i in items],
                                   [i.digest for i in items], [json.dumps(i.data) for i in items]])
        claimed = dict(cur.fetchall())
        for item in items:
            item.pk = claimed.get(item.request_no)
        earlier = [i.request_no for i in items if i.pk is None]
        if not earlier:
            return {}
        cur.execute(_STORED, [platform_no, earlier])
        return {row[0]: row[1:] for row in cur.fetchall()}


def _lock_rows(platform_no: str, items: list[Item]) -> None:
    """Lock, in the global order, every existing row the new items may lock or change."""
    projects, freezes, customers = set(), set(), set()
    for item in items:
        d = item.data
        if item.service in ("MODIFY_PROJECT", "CONFIRM_LOAN"):
            projects.add(d["projectNo"])
        if item.service == "CONFIRM_LOAN":
            freezes.update(x["preRequestNo"] for x in d["details"])
        if "preRequestNo" in d:
            freezes.add(d["preRequestNo"])
        if item.service == "USER_PRE_TRANSACTION":
            customers.add(d["userNo"])
        if item.service == "TRANSFER":
            customers.update({d["payer"], d["payee"]} - messages.PLATFORM_ACCOUNTS)
        if item.service == "CONFIRM_REPAYMENT":
            customers.update(x["userNo"] for x in d["details"])
    owners: list[int] = []
    with connections[DB].cursor() as cur:
        if projects:
            cur.execute("SELECT borrower_id FROM bank_project WHERE platform_no = %s AND project_no = ANY(%s) "
                        "ORDER BY id FOR UPDATE", [platform_no, sorted(projects)])
            owners += [row[0] for row in cur.fetchall()]
        if freezes:
            cur.execute("SELECT f.account_id FROM bank_freeze f JOIN bank_bankrequest r ON r.id = f.request_id "
                        "WHERE r.platform_no = %s AND r.request_no = ANY(%s) ORDER BY f.id FOR UPDATE OF f",
                        [platform_no, sorted(freezes)])
            owners += [row[0] for row in cur.fetchall()]
        if customers or owners:
            cur.execute("SELECT id FROM bank_account WHERE kind = 'CUSTOMER' AND "
                        "((platform_no = %s AND account_no = ANY(%s)) OR id = ANY(%s)) ORDER BY id FOR UPDATE",
                        [platform_no, sorted(customers), sorted(set(owners))])


def _run(platform_no: str, checked: list[Item | dict[str, Any]],
         stored: dict[str, tuple[str, str, Any]]) -> list[dict[str, Any]]:
    # requestNos this batch recorded but has not run yet: alone, they would not exist yet.
    not_yet = {i.request_no for i in checked if isinstance(i, Item) and i.pk is not None}
    results = []
    for item in checked:
        if not isinstance(item, Item):
            results.append(item)
            continue
        if item.pk is None:
            results.append(_replay(item, *stored[item.request_no]))
            continue
        not_yet.discard(item.request_no)
        req = BankRequest(pk=item.pk, platform_no=platform_no, request_no=item.request_no,
                          service_name=item.service, digest=item.digest, req_data=item.data)
        handler = handlers.DIRECT[item.service]
        if item.service == "QUERY_REQUEST" and item.data["queryRequestNo"] in not_yet:
            handler = _unknown_yet
        # Release the previous savepoint (the batch's own, then each item's) and open this
        # item's in one round trip: savepoints do not pile up over a long batch.
        with connections[DB].cursor() as cur:
            cur.execute("RELEASE " + processing.HANDLER_SAVEPOINT.split(" ", 1)[1] + "; "
                        + processing.HANDLER_SAVEPOINT)
        result = processing.run_handler(req, handler, item.data, savepoint_open=True)
        if result["status"] == BankRequest.Status.PROCESSING:  # §5a: notified one by one (§4)
            Notification.objects.using(DB).create(
                platform_no=platform_no, request_no=item.request_no, next_attempt_at=timezone.now(),
                body=processing.notification_body(platform_no, item.service, result))
        results.append(result)
    return results


def _replay(item: Item, digest: str, status: str, response: Any) -> dict[str, Any]:
    if isinstance(response, str):  # jsonb arrives as text through Django's cursor
        response = json.loads(response)
    if digest != item.digest:
        return processing.response_data(item.request_no, codes.REQUEST_NO_REUSED)
    if status == BankRequest.Status.PROCESSING:
        return processing.response_data(item.request_no, codes.PROCESSING)
    return response


def _unknown_yet(req: BankRequest, data: dict[str, Any]) -> dict[str, Any]:
    """QUERY_REQUEST of a later item of the same batch: alone, it was not recorded yet."""
    raise BusinessError(codes.QUERY_UNKNOWN)
