"""Automatic repayment, set-based (issue 14): the due periods are started a chunk of loans per
transaction — their repayments, REPAYMENT freezes and period claims in a few statements — and
sent through the depository outbox as BATCHes (decision record 0007); the freezes' answers
enqueue the confirmations, which go the same way. ``repayments.results_many`` applies a
batch's answers in a few statements too.

Each period gets exactly what ``repay_start`` would give it: the same checks (a period that
fails one is ``skipped``), the same split among investors, the same amounts, the same records.
"""

from __future__ import annotations

import datetime as dt
import logging
import threading
from collections import defaultdict

from django.conf import settings
from django.db import connection, connections, transaction
from django.db.models import Min
from django.db.models.functions import Mod
from django.utils import timezone

from wanxin.core.ids import new_request_no
from wanxin.depository import outbox
from wanxin.depository import services as depository
from wanxin.funds.models import DepositoryAccount
from wanxin.lending import domain as lending_domain
from wanxin.lending.models import Project
from wanxin.rows import insert_many

from .. import locks
from ..models import PERIOD, Repayment, RepaymentPlan
from .repay import _investor_details, _receivables_of
from .transitions import UNPAID

log = logging.getLogger("wanxin.repayments")


def auto_workers() -> int:
    return max(1, int(settings.REPAYMENT_AUTO_WORKERS))


def auto_shards() -> int:
    return max(1, int(settings.REPAYMENT_AUTO_SHARDS))


def auto_chunk() -> int:
    return max(1, int(settings.REPAYMENT_AUTO_CHUNK))


def auto_repay(*, today: dt.date | None = None, workers: int | None = None,
               shard: tuple[int, int] | None = None) -> dict[str, int]:
    """Repay every period due on or before ``today`` (and overdue ones) of borrowers who
    authorised REPAYMENT; one repayment each (the loan's earliest unpaid period), skipping
    periods already in flight. Returns counts: ``started``; ``skipped`` (refused: balance,
    state, in flight …); ``errors`` (unexpected failures, logged; the other loans go on).

    Up to ``workers`` threads (``REPAYMENT_AUTO_WORKERS``) each start a chunk of loans
    (``REPAYMENT_AUTO_CHUNK``) in one transaction, then drain the outbox until nothing is left
    to send, so the job returns once its periods are settled (or left to recovery).

    ``shard=(i, n)`` takes only the loans with ``project_id % n == i``: n processes (Celery
    tasks, see ``tasks.auto_repay``) each run one shard and together cover every loan once.
    Overlapping runs never start a period twice: its row is locked (``SKIP LOCKED``) and its
    claim conditional."""
    today = today or timezone.localdate()
    due = (RepaymentPlan.objects.filter(status__in=UNPAID, due_date__lte=today, repayment__isnull=True,
                                        project__status=lending_domain.REPAYING,
                                        borrower__depository_account__auth_list__contains=["REPAYMENT"])
           .order_by("project_id", "number").select_related("borrower"))
    if shard is not None:
        index, count = shard
        if not 0 <= index < count:
            raise ValueError(f"shard {index} of {count}")
        if count > 1:
            due = due.alias(shard_of=Mod("project_id", count)).filter(shard_of=index)
    seen: set[int] = set()
    todo = []
    for plan in due:
        if plan.project_id not in seen:  # one period per loan per run: the earliest
            seen.add(plan.project_id)
            todo.append(plan)
    size = auto_chunk()
    chunks = iter([todo[i:i + size] for i in range(0, len(todo), size)])
    counts = {"started": 0, "skipped": 0, "errors": 0}
    lock = threading.Lock()

    def work() -> None:
        try:
            while True:
                with lock:
                    chunk = next(chunks, None)
                if chunk is None:
                    break
                done = _start_or_split(chunk)
                with lock:
                    for key, value in done.items():
                        counts[key] += value
            if counts["started"]:  # what waits for other reasons is the senders' work
                outbox.drain()
        except Exception:
            log.exception("automatic repayment: sending through the outbox failed; recovery will finish it")

    workers = min(auto_workers() if workers is None else max(1, workers), max(1, len(todo) // size + 1))
    if workers <= 1:
        work()
        return counts
    threads = [threading.Thread(target=_closing(work), name=f"auto-repay-{n}", daemon=True) for n in range(workers)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return counts


def _closing(func):
    def run() -> None:
        try:
            func()
        finally:
            connections.close_all()  # this thread's connections (or back to the pool)

    return run


def _start_or_split(chunk: list[RepaymentPlan]) -> dict[str, int]:
    """Start a chunk in one transaction; if that fails unexpectedly, each loan alone, so one
    bad loan costs only itself (counted in ``errors``)."""
    try:
        return _start_chunk(chunk)
    except Exception:
        if len(chunk) == 1:
            log.exception("automatic repayment of period %s failed", chunk[0].pk)
            return {"started": 0, "skipped": 0, "errors": 1}
        log.warning("automatic repayment of %s periods failed together; starting them one by one", len(chunk),
                    exc_info=True)
    counts = {"started": 0, "skipped": 0, "errors": 0}
    for plan in chunk:
        for key, value in _start_or_split([plan]).items():
            counts[key] += value
    return counts


def _start_chunk(chunk: list[RepaymentPlan]) -> dict[str, int]:
    """One transaction: the periods locked (``SKIP LOCKED``: another run has them), checked as
    ``repay_start`` checks them, and for those that pass their repayments, freezes (outbox) and
    claims, each kind in one statement."""
    started, skipped = [], 0
    with transaction.atomic():
        plans = locks.plans_claim_lock([p.pk for p in chunk])
        project_ids = {p.project_id for p in plans}
        earliest = dict(RepaymentPlan.objects.filter(project_id__in=project_ids, status__in=UNPAID)
                        .values("project_id").annotate(first=Min("number")).values_list("project_id", "first"))
        projects = Project.objects.only("id", "project_no", "status", "bank_status").in_bulk(project_ids)
        accounts = {a.user_id: a for a in DepositoryAccount.objects.only("user_id", "user_no", "status", "auth_list",
                                                                        "available")
                    .filter(user_id__in={p.borrower_id for p in chunk})}
        receivables = defaultdict(list)
        for receivable in _receivables_of("pk", plan_id__in=[p.pk for p in plans]):
            receivables[receivable.plan_id].append(receivable)
        spent: dict[int, int] = defaultdict(int)  # by borrower: what this chunk already froze
        borrowers = {p.pk: p.borrower for p in chunk}
        for plan in plans:
            project, account = projects[plan.project_id], accounts.get(plan.borrower_id)
            total = plan.principal + plan.interest + plan.penalty
            if not (borrowers[plan.pk].is_customer and project.status == project.bank_status == lending_domain.REPAYING
                    and earliest.get(plan.project_id) == plan.number and account is not None and account.is_open
                    and "REPAYMENT" in (account.auth_list or []) and account.available - spent[plan.borrower_id] >= total):
                continue
            details = _investor_details([(r, r.principal, r.interest) for r in receivables[plan.pk]])
            commission = plan.platform_share + plan.penalty
            if sum(d["principal"] + d["interest"] for d in details) + commission != total:  # pragma: no cover
                log.error("automatic repayment of period %s does not add up; skipped", plan.pk)
                continue
            spent[plan.borrower_id] += total
            started.append((plan, project, account, Repayment(
                project_id=plan.project_id, borrower_id=plan.borrower_id, kind=PERIOD, auto=True,
                request_no=new_request_no("WXR"), principal=plan.principal, interest=plan.interest,
                penalty=plan.penalty, fee=0, commission=commission, total=total, details=details)))
        skipped = len(chunk) - len(started)
        if started:
            insert_many([r for *_, r in started])
            depository.requests_create([depository.request_build(
                service_name="USER_PRE_TRANSACTION", payload={
                    "userNo": account.user_no, "bizType": "REPAYMENT", "amount": r.total,
                    "projectNo": project.project_no, "remark": f"repayment {project.project_no}"},
                owner=r, user_no=account.user_no, amount=r.total, request_no=r.request_no, outbox=True)
                for _, project, account, r in started])
            _claim(started)
    return {"started": len(started), "skipped": skipped, "errors": 0}


def _claim(started: list[tuple]) -> None:
    """Every period attached to its repayment in one UPDATE (under the locks taken above)."""
    rows = [(plan.pk, repayment.pk) for plan, _, _, repayment in started]
    values = ", ".join(["(%s::bigint, %s::bigint)"] * len(rows))
    table = RepaymentPlan._meta.db_table
    with connection.cursor() as cursor:
        cursor.execute(f"UPDATE {table} AS p SET repayment_id = v.repayment FROM (VALUES {values}) "  # noqa: S608
                       "AS v(id, repayment) WHERE p.id = v.id AND p.repayment_id IS NULL AND p.status = ANY(%s)",
                       [*(x for row in rows for x in row), list(UNPAID)])
        if cursor.rowcount != len(rows):  # pragma: no cover - the rows are locked by this transaction
            raise RuntimeError(f"claimed {cursor.rowcount} of {len(rows)} periods")
