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
- Each item's refusal changes nothing and stores its own failure; its statement columns and
  history rows are its own. Items off the fast path run in their own savepoint through the
  single-request pipeline (``processing.run_handler``); fast-path freezes and transfers need
  none (every refusal comes before their one write), CONFIRM_REPAYMENT keeps one (below).
- The batch's response is stored on the batch's own row, and the client is answered only
  after COMMIT. Items whose fields are bad get their own ``00003`` and are not recorded.

Speed (docs/benchmarks.md): the hot items (USER_PRE_TRANSACTION, TRANSFER from a customer to
a platform account, CONFIRM_REPAYMENT) run in runs of consecutive items through one PL/pgSQL function call per run
(sql/batch_items.sql): one round trip for many items instead of ~6 each, and no
subtransaction per freeze or post (their refusals come before their first write). Credits to
platform accounts (every post pays one) are applied once, just before COMMIT, with one
history row per item: a batch then holds those hot rows only for its last statements, not
from its first post on, so concurrent batches do not queue behind each other. An item that
*debits* a platform account first applies the credits before it, so it sees exactly the
balance it would have seen alone.
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

from . import accounts, handlers, processing
from .ledger import Posting, change_balances
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
            credits = SharedCredits()
            results = _run(v.platform.platform_no, checked, stored, credits)
            credits.flush()
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


# Lists go to PostgreSQL as one JSON text each: Django's psycopg cursors bind client-side, and
# psycopg quotes a Python list's elements one by one (a regex substitution each), which cost
# more CPU per item than the rest of the batch's Python (docs/benchmarks.md, BATCH profile).
_CLAIM_ITEMS = (
    "INSERT INTO bank_bankrequest (platform_no, request_no, service_name, digest, req_data, status, resp_code, "
    "biz_type, user_no, counterparty, moved_money, created_at) "
    "SELECT %s, x->>0, x->>1, x->>2, x->3, 'PROCESSING', '', '', '', '', false, now() "
    "FROM jsonb_array_elements(%s::jsonb) AS x ORDER BY x->>0 "
    "ON CONFLICT (platform_no, request_no) DO NOTHING RETURNING request_no, id"
)
_STORED = (
    "SELECT request_no, digest, status, response FROM bank_bankrequest "
    "WHERE platform_no = %s AND request_no = ANY(ARRAY(SELECT jsonb_array_elements_text(%s::jsonb)))"
)


def _claim_items(platform_no: str, items: list[Item]) -> dict[str, tuple[str, str, Any]]:
    """Claim every item's requestNo in one statement; returns the rows recorded before
    (requestNo → digest, status, response). Sets ``pk`` on the items claimed now."""
    if not items:
        return {}
    with connections[DB].cursor() as cur:
        cur.execute(_CLAIM_ITEMS, [platform_no, json.dumps([[i.request_no, i.service, i.digest, i.data]
                                                            for i in items])])
        claimed = dict(cur.fetchall())
        for item in items:
            item.pk = claimed.get(item.request_no)
        earlier = [i.request_no for i in items if i.pk is None]
        if not earlier:
            return {}
        cur.execute(_STORED, [platform_no, json.dumps(earlier)])
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
            cur.execute("SELECT borrower_id FROM bank_project WHERE platform_no = %s "
                        "AND project_no = ANY(ARRAY(SELECT jsonb_array_elements_text(%s::jsonb))) "
                        "ORDER BY id FOR UPDATE", [platform_no, json.dumps(sorted(projects))])
            owners += [row[0] for row in cur.fetchall()]
        if freezes:
            cur.execute("SELECT f.account_id FROM bank_freeze f JOIN bank_bankrequest r ON r.id = f.request_id "
                        "WHERE r.platform_no = %s "
                        "AND r.request_no = ANY(ARRAY(SELECT jsonb_array_elements_text(%s::jsonb))) "
                        "ORDER BY f.id FOR UPDATE OF f",
                        [platform_no, json.dumps(sorted(freezes))])
            owners += [row[0] for row in cur.fetchall()]
        if customers or owners:
            cur.execute("SELECT id FROM bank_account WHERE kind = 'CUSTOMER' AND "
                        "((platform_no = %s AND account_no = ANY(ARRAY(SELECT jsonb_array_elements_text(%s::jsonb)))) "
                        "OR id = ANY(%s)) ORDER BY id FOR UPDATE",
                        [platform_no, json.dumps(sorted(customers)), sorted(set(owners))])


def _fast(item: Item) -> bool:
    """Items that sql/batch_items.sql runs (it checks exactly what their handlers check):
    freezes, transfers from a customer to a platform account, out of a freeze or plain
    (a fee run's charges), and repayments (an automatic repayment run's confirmations)."""
    return item.pk is not None and (item.service in ("USER_PRE_TRANSACTION", "CONFIRM_REPAYMENT") or (
        item.service == "TRANSFER" and ("preRequestNo" in item.data or (
            item.data["payer"] not in messages.PLATFORM_ACCOUNTS
            and item.data["payee"] in messages.PLATFORM_ACCOUNTS))))


def _run(platform_no: str, checked: list[Item | dict[str, Any]], stored: dict[str, tuple[str, str, Any]],
         credits: SharedCredits) -> list[dict[str, Any]]:
    # requestNos this batch recorded but has not run yet: alone, they would not exist yet.
    not_yet = {i.request_no for i in checked if isinstance(i, Item) and i.pk is not None}
    # The platform accounts the function credits must exist (the handlers create them on first use).
    fast = [i for i in checked if isinstance(i, Item) and _fast(i)]
    payees = {i.data.get("payee") for i in fast if i.service == "TRANSFER"}
    if any(i.service == "CONFIRM_REPAYMENT" for i in fast):
        payees.add(messages.PLATFORM_INCOME)
    for payee in payees & messages.PLATFORM_ACCOUNTS:
        accounts.system(platform_no, accounts.SYSTEM_KINDS[payee])
    results: list[dict[str, Any]] = []
    run: list[Item] = []
    for item in [*checked, None]:
        if isinstance(item, Item) and _fast(item):
            run.append(item)
            not_yet.discard(item.request_no)
            continue
        if run:
            results += _run_fast(platform_no, run, credits)
            run = []
        if item is None:
            break
        if not isinstance(item, Item):
            results.append(item)
            continue
        if item.pk is None:
            results.append(_replay(item, *stored[item.request_no]))
            continue
        not_yet.discard(item.request_no)
        results.append(_run_one(platform_no, item, credits, unknown_yet=(
            item.service == "QUERY_REQUEST" and item.data["queryRequestNo"] in not_yet)))
    return results


def _run_fast(platform_no: str, run: list[Item], credits: SharedCredits) -> list[dict[str, Any]]:
    payload = [{"id": i.pk, "rn": i.request_no, "svc": i.service, "data": i.data} for i in run]
    with connections[DB].cursor() as cur:
        cur.execute("SELECT bank_batch_items(%s, %s::jsonb)", [platform_no, json.dumps(payload)])
        out = cur.fetchone()[0]
    out = json.loads(out) if isinstance(out, str) else out
    for item, done in zip(run, out, strict=True):
        if done["c"] is not None:
            account_id, amount = done["c"]
            credits.pending.append((item.pk, {account_id: [amount, 0]}))
    return [done["r"] for done in out]


def _run_one(platform_no: str, item: Item, credits: SharedCredits, *, unknown_yet: bool) -> dict[str, Any]:
    """Any other item, through the single-request pipeline in its own savepoint."""
    req = BankRequest(pk=item.pk, platform_no=platform_no, request_no=item.request_no,
                      service_name=item.service, digest=item.digest, req_data=item.data)
    handler = _unknown_yet if unknown_yet else handlers.DIRECT[item.service]
    # Release the previous savepoint (the batch's own, then each item's) and open this
    # item's in one round trip: savepoints do not pile up over a long batch.
    with connections[DB].cursor() as cur:
        cur.execute("RELEASE " + processing.HANDLER_SAVEPOINT.split(" ", 1)[1] + "; " + processing.HANDLER_SAVEPOINT)
    result = processing.run_handler(req, handler, item.data, savepoint_open=True, shared=credits.apply)
    if result["status"] == BankRequest.Status.PROCESSING:  # §5a: notified one by one (§4)
        Notification.objects.using(DB).create(
            platform_no=platform_no, request_no=item.request_no, next_attempt_at=timezone.now(),
            body=processing.notification_body(platform_no, item.service, result))
    return result


class SharedCredits:
    """Platform-account (shared) deltas of the batch's items, applied in item order.

    Pure credits wait in ``pending`` until ``flush()`` just before COMMIT (they cannot
    overdraw). An item with a debit applies the pending credits and then its own deltas at
    once, inside its savepoint, so an overdraft refuses that item alone; if it is refused,
    the rollback undoes the flush too and the credits stay pending."""

    def __init__(self) -> None:
        self.pending: list[tuple[int, dict[int, list[int]]]] = []  # (request id, deltas) in order

    def apply(self, req: BankRequest, postings: list[Posting]) -> None:
        deltas: dict[int, list[int]] = {}
        for posting in postings:
            for pk, (d_available, d_frozen) in posting.shared_deltas().items():
                total = deltas.setdefault(pk, [0, 0])
                total[0] += d_available
                total[1] += d_frozen
        deltas = {pk: d for pk, d in deltas.items() if d != [0, 0]}
        if all(d[0] >= 0 and d[1] >= 0 for d in deltas.values()):
            if deltas:
                self.pending.append((req.pk, deltas))
            return
        with connections[DB].cursor() as cur:
            self._apply_pending(cur)
            change_balances(cur, req, deltas)  # InsufficientBalance: the item is refused
        self.pending = []

    def flush(self) -> None:
        with connections[DB].cursor() as cur:
            self._apply_pending(cur)
        self.pending = []

    def _apply_pending(self, cur) -> None:
        by_account: dict[int, list[tuple[int, int, int]]] = {}
        for request_id, deltas in self.pending:
            for pk, (d_available, d_frozen) in deltas.items():
                by_account.setdefault(pk, []).append((request_id, d_available, d_frozen))
        now = timezone.now()
        for account_id in sorted(by_account):  # the global lock order: primary key
            rows = by_account[account_id]
            cur.execute(_CREDIT_IN_ORDER, [json.dumps(rows), account_id, account_id, now])
            if cur.fetchone() is None:  # pragma: no cover - credits cannot overdraw
                raise RuntimeError(f"account {account_id} refused a credit")


# All of an account's pending credits in one UPDATE, and one BalanceChange row per item in
# item order, written while the UPDATE holds the row: the history replays (ledger.py).
_CREDIT_IN_ORDER = (
    "WITH d AS (SELECT (x->>0)::bigint AS r, (x->>1)::bigint AS a, (x->>2)::bigint AS f, n "
    "FROM jsonb_array_elements(%s::jsonb) WITH ORDINALITY AS t(x, n)), "
    "s AS (SELECT sum(a) AS a, sum(f) AS f FROM d), "
    "u AS (UPDATE bank_account SET available = available + s.a, frozen = frozen + s.f FROM s "
    "WHERE id = %s RETURNING available - s.a AS a0, frozen - s.f AS f0) "
    "INSERT INTO bank_balancechange (account_id, request_id, delta_available, delta_frozen, available_after, "
    "frozen_after, created_at) "
    "SELECT %s, d.r, d.a, d.f, u.a0 + sum(d.a) OVER w, u.f0 + sum(d.f) OVER w, %s FROM d, u "
    "WINDOW w AS (ORDER BY d.n) ORDER BY d.n RETURNING 1"
)


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
