"""Seeding the bank (main process, after ``django.setup()``), the reference figures measured
beside the phases (PostgreSQL alone, the Python floor, statements per request) and the ledger
invariants checked at the end."""

from __future__ import annotations

import re
import subprocess
import tempfile
import time
from pathlib import Path
from typing import Any

from benchmarks.common import (
    StatementCounter,
    cpu_busy_seconds,
    migrate,
    pgbench_binary,
    pgbench_connection,
)

from .caller import Caller, one_iteration
from .config import (
    AMOUNT,
    BANK_DB,
    OK,
    ONE_CALL_SQL,
    SEED_PER_CUSTOMER,
    batch_customer_no,
    customer_no,
)


def migrate_and_seed(workers: int, per_worker: int, batch_per_worker: int = 0) -> dict[str, Any]:
    from django.conf import settings
    from django.db import connections

    from wanxin.bank import accounts, staff
    from wanxin.bank.models import Account
    from wanxin.protocol import messages

    migrate()
    platform_no = settings.PLATFORM_NO
    names = [customer_no(w, i) for w in range(workers) for i in range(per_worker)]
    batch_names = [batch_customer_no(w, i) for w in range(workers) for i in range(batch_per_worker)]
    staff.fund_platform_capital(platform_no=platform_no, amount=SEED_PER_CUSTOMER * (len(names) + len(batch_names) + 10),
                                staff="benchmark")
    accounts.system(platform_no, Account.Kind.PLATFORM_INCOME)
    Account.objects.using("bank").bulk_create(
        [
            Account(platform_no=platform_no, account_no=name, kind=Account.Kind.CUSTOMER,
                    status=Account.Status.OPEN, full_name="Bench Customer", id_number=f"110101199001{n:06d}",
                    mobile="13800138000", role="BOTH", auth_list=sorted(messages.AUTH_TYPES))
            for n, name in enumerate(names + batch_names)
        ]
    )
    with connections["bank"].cursor() as cur:  # the ceiling prototype; this database only
        cur.execute(ONE_CALL_SQL.read_text())
    caller = Caller(99, "seed")
    for name in names:
        resp = caller.call("TRANSFER", bizType="COMPENSATION", payer="PLATFORM_CAPITAL", payee=name,
                           amount=SEED_PER_CUSTOMER)
        if resp["respCode"] != OK:
            raise SystemExit(f"seeding {name} failed: {resp}")
    for start in range(0, len(batch_names), 100):  # the BATCH phase's customers, funded by BATCHes
        items = [{"serviceName": "TRANSFER", "data": {
            "requestNo": caller.request_no(), "bizType": "COMPENSATION", "payer": "PLATFORM_CAPITAL",
            "payee": name, "amount": SEED_PER_CUSTOMER}} for name in batch_names[start:start + 100]]
        resp = caller.call("BATCH", items=items)
        if resp["respCode"] != OK or {r["respCode"] for r in resp["results"]} != {OK}:
            raise SystemExit(f"seeding by BATCH failed: {str(resp)[:300]}")
    return {"customers": len(names) + len(batch_names), "funded_each_fen": SEED_PER_CUSTOMER}


PG_ONLY_SCRIPTS = {
    # One freeze per transaction, as the prototype's callers send it.
    "one_per_transaction": 1,
    # Eight freezes in one statement and one transaction: what a batching writer would send.
    "eight_per_transaction": 8,
}


def pg_only_ceiling(seconds: int, clients: int = 8) -> dict[str, Any]:
    """The prototype's function driven by pgbench itself, with no Python at all: what
    PostgreSQL's own share of a freeze costs, one per transaction and batched, on the
    machine's CPU. (Each client freezes from its own seeded customer, requestNos unique.)"""
    from django.conf import settings

    out: dict[str, Any] = {}
    conn = pgbench_connection()
    with tempfile.TemporaryDirectory() as tmp:
        for name, per in PG_ONLY_SCRIPTS.items():
            script = Path(tmp) / f"{name}.sql"
            # requestNo: the client, a random 62-bit number and the row of the batch; the
            # req_data is as long as a real freeze's.
            script.write_text(
                "\\set n random(1, 4611686018427387903)\n"
                f"SELECT bench_freeze_in_one_call('{settings.PLATFORM_NO}', 'pg' || :client_id || 'x' || :n || 'g' || g, "
                "md5(:n::text), jsonb_build_object('requestNo', 'pg' || :n, 'timestamp', 1764620000000, "
                "'userNo', 'bc0' || (:client_id % 8) || 'x000', 'bizType', 'ALLOCATION', 'amount', 1), "
                f"'bc0' || (:client_id % 8) || 'x000', 'ALLOCATION', 1) FROM generate_series(1, {per}) g;\n"
            )
            cpu0 = cpu_busy_seconds()
            done = subprocess.run([pgbench_binary(), "-n", "-f", str(script), "-c", str(clients), "-j", "2",
                                   "-T", str(seconds), *conn, BANK_DB], check=True, capture_output=True, text=True)
            cpu = cpu_busy_seconds() - cpu0
            tps = float(re.search(r"tps = ([\d.]+) \(without", done.stdout).group(1))
            out[name] = {"freezes_per_transaction": per, "tps": tps, "freezes_per_s": round(tps * per, 1),
                         "machine_cpu_ms_per_freeze": round(cpu / (tps * per * seconds) * 1000, 3)}
            print(f"  PostgreSQL alone, {per} freeze(s) per transaction: {tps * per:.0f} freezes/s, "
                  f"{out[name]['machine_cpu_ms_per_freeze']:.3f} ms machine CPU each", flush=True)
    return out


def python_floor(iterations: int = 2000) -> dict[str, Any]:
    """CPU of the parts of a request no design can drop (PROTOCOL §2): the client's
    envelope and Ed25519 signature, the bank's verify and validation, its signed answer."""
    from wanxin.bank import processing
    from wanxin.protocol import messages

    caller = Caller(97, "floor")
    t0 = time.process_time()
    envelopes = [caller.envelope("USER_PRE_TRANSACTION", {"userNo": customer_no(0, 0), "bizType": "ALLOCATION",
                                                          "amount": AMOUNT}) for _ in range(iterations)]
    t1 = time.process_time()
    verified = [processing.verify(e, allowed=messages.DIRECT_SERVICES) for e in envelopes]
    t2 = time.process_time()
    for v in verified:
        processing.sign(processing.response_data(v.data["requestNo"], OK, None, userNo=v.data["userNo"],
                                                 amount=AMOUNT, frozen=AMOUNT))
    t3 = time.process_time()
    ms = {"client_envelope_and_signature": (t1 - t0), "bank_verify_and_validate": (t2 - t1),
          "bank_signed_answer": (t3 - t2)}
    ms = {k: round(v / iterations * 1000, 4) for k, v in ms.items()}
    ms["total"] = round(sum(ms.values()), 4)
    return ms


def statement_counts(iterations: int = 30) -> dict[str, Any]:
    """SQL statements (and time in them) per request, one process, no contention."""
    from django.db import connections

    caller = Caller(98, "count")
    counted: dict[str, Any] = {}
    counter = StatementCounter()

    for mix, payee in (("freeze_post", "PLATFORM_INCOME"), ("transfer", "PLATFORM_CAPITAL"),
                       ("freeze_only", "PLATFORM_INCOME"), ("freeze_one_call", "PLATFORM_INCOME"),
                       ("query_balance", "PLATFORM_INCOME")):
        one_iteration(caller, mix, customer_no(0, 0), payee)  # warm
        counter.reset()
        requests, total = 0, 0.0
        with connections["bank"].execute_wrapper(counter):
            for _ in range(iterations):
                for seconds, resp in one_iteration(caller, mix, customer_no(0, 0), payee):
                    requests += 1
                    total += seconds
                    assert resp["respCode"] == OK, resp
        counted[mix] = {
            "statements_per_request": round(counter.statements / requests, 2),
            # + BEGIN and COMMIT, except the one-call prototype (autocommit: an implicit transaction)
            "round_trips_per_request": round(counter.statements / requests + (mix != "freeze_one_call") * 2, 2),
            "ms_per_request": round(total / requests * 1000, 3),
            "ms_in_statements_per_request": round(counter.seconds / requests * 1000, 3),
        }
    return counted


def check_invariants() -> dict[str, Any]:
    from wanxin.bank import invariants
    from wanxin.bank.models import BalanceChange, BankRequest, Transfer

    total = invariants.total_balance()
    mismatches = invariants.replay_mismatches()
    return {
        "total_balance": total,
        "replay_mismatches": mismatches,
        "negative_customers": invariants.negative_customers(),
        "requests_recorded": BankRequest.objects.using("bank").count(),
        "transfers": Transfer.objects.using("bank").count(),
        "balance_changes": BalanceChange.objects.using("bank").count(),
        "ok": total == 0 and mismatches == [] and invariants.negative_customers() == 0,
    }
