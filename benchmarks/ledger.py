"""Ledger throughput of the bank, beside the machine's own PostgreSQL ceiling (pgbench).

    python -m benchmarks.ledger [--seconds 15] [--http-seconds 10] [--pgbench-seconds 20]

Measures, on the PostgreSQL at 127.0.0.1:5432 (user postgres, trust auth):

(a) ledger requests per second through the bank's service layer: the real signed
    pipeline (``processing.verify`` → ``processing.execute_direct`` with
    ``handlers.DIRECT`` → ``processing.sign``) minus HTTP, from N worker *processes*
    (each runs ``django.setup()`` itself), for these mixes:
      - freeze + post pairs: USER_PRE_TRANSACTION ALLOCATION, then TRANSFER
        ALLOCATION_FEE out of that freeze to PLATFORM_INCOME (one hot row);
      - the same with the payee spread over PLATFORM_INCOME and PLATFORM_CAPITAL;
      - plain transfers: TRANSFER COMPENSATION PLATFORM_CAPITAL→customer and
        ALLOCATION_SETTLE customer→PLATFORM_CAPITAL (one hot row);
      - freezes only (touch only the customer's own row: no hot row; a reference).
(b) signed direct-API requests per second over HTTP against gunicorn (gthread, 2×8),
    N client processes with httpx: QUERY_BALANCE, and the plain transfer mix; once with
    the project's settings (a new database connection per request) and once with
    Django's psycopg pool (``benchmarks/settings_pooled.py``) for comparison.
(b2) first of all: BATCH items/s over HTTP (PROTOCOL §5a): 8 sender processes send signed
    BATCHes of freeze + post pairs to gunicorn; ``batch_ratio_to_pgbench`` (target 1.5),
    with CPU per item of gunicorn, the bank database's backends and the senders.
    ``--batch-only`` runs pgbench, the seed and this phase alone.
(c) pgbench TPC-B (scale 8, 8 clients, 2 threads) on the same server in the same run;
    every figure is also printed as a ratio to its tps.

Every request is one committed database transaction, so "requests/s" is comparable with
pgbench's "tps". The databases wanxin_bench, wanxin_bench_bank and wanxin_bench_pgbench
are dropped and recreated at the start. The ledger invariants (sum of balances is zero,
every account's history replays to its balance) are checked at the end. Results go to
``benchmarks/results/ledger.json``.
"""

from __future__ import annotations

import argparse
import cProfile
import io
import itertools
import json
import multiprocessing as mp
import os
import pstats
import queue
import re
import resource
import subprocess
import sys
import tempfile
import time
import traceback
from pathlib import Path
from typing import Any

from benchmarks.common import (
    PG_HOST,
    PG_PORT,
    PG_USER,
    RESULTS,
    ROOT,
    StatementCounter,
    configure_environment,
    cpu_busy_seconds,
    drop_database,
    free_port,
    machine_facts,
    percentile,
    pgbench_binary,
    pgbench_connection,
    recreate_databases,
    result_head,
    run_pgbench,
    sample_backends,
    server_facts,
    start_gunicorn,
    stop_server,
    tree_cpu_seconds,
)

PLATFORM_DB, BANK_DB, PGBENCH_DB = "wanxin_bench", "wanxin_bench_bank", "wanxin_bench_pgbench"
SEED_PER_CUSTOMER = 100_000_000_00  # fen: 100 M yuan each, far more than a run can spend
AMOUNT = 100  # fen per movement
OK = "00000"
ONE_CALL_SQL = Path(__file__).resolve().parent / "sql" / "freeze_in_one_call.sql"
ONE_CALL_FREEZE = "SELECT bench_freeze_in_one_call(%s, %s, %s, %s, %s, %s, %s)"
PHASE_NUMBERS = itertools.count(1)


# -- worker processes ---------------------------------------------------------------------


class Caller:
    """Speaks the protocol to the bank, in-process (service layer) or over HTTP."""

    def __init__(self, wid: int, tag: str, base_url: str | None = None):
        from django.conf import settings

        from wanxin.protocol import signing

        self.wid, self.tag, self.seq = wid, tag, 0
        self.batch_items = 1000
        self.batch_customers: list[str] = []
        self.platform_no = settings.PLATFORM_NO
        self.key = signing.load_private_key(settings.PLATFORM_PRIVATE_KEY)
        self.bank_key = signing.load_public_key(settings.BANK_PUBLIC_KEY)
        self.http = None
        if base_url is not None:
            import httpx

            self.http = httpx.Client(base_url=base_url, timeout=120)  # a 1,000-item BATCH on a loaded machine

    def close(self) -> None:
        if self.http is not None:
            self.http.close()

    def request_no(self) -> str:
        self.seq += 1
        return f"{self.tag}w{self.wid}n{self.seq}"

    def envelope(self, service: str, data: dict[str, Any]) -> dict[str, str]:
        from wanxin.protocol import envelope

        data = {"requestNo": self.request_no(), "timestamp": int(time.time() * 1000), **data}
        return envelope.build_request(self.key, service_name=service, platform_no=self.platform_no,
                                      data=data).as_dict()

    def call(self, service: str, **data: Any) -> dict[str, Any]:
        env = self.envelope(service, data)
        if self.http is not None:
            from wanxin.protocol import envelope

            response = self.http.post("/bank/service", json=env)
            response.raise_for_status()
            return envelope.open_response(self.bank_key, response.json())
        from wanxin.bank import batch, handlers, processing
        from wanxin.protocol import messages

        verified = processing.verify(env, allowed=messages.DIRECT_SERVICES)
        if service == "BATCH":
            data = batch.execute_batch(verified)
        else:
            data = processing.execute_direct(verified, handlers.DIRECT[service])
        processing.sign(data)  # the bank signs every response; part of its cost
        return data

    def call_in_one_call(self, **data: Any) -> dict[str, Any]:
        """The ceiling prototype (``sql/freeze_in_one_call.sql``): the bank's real verify
        and sign around one server-side function doing the whole freeze, in autocommit (one
        round trip, one implicit transaction)."""
        from django.db import connections

        from wanxin.bank import processing
        from wanxin.protocol import messages

        v = processing.verify(self.envelope("USER_PRE_TRANSACTION", data), allowed=messages.DIRECT_SERVICES)
        with connections["bank"].cursor() as cur:
            cur.execute(ONE_CALL_FREEZE, [v.platform.platform_no, v.data["requestNo"], v.digest,
                                          json.dumps(v.data), v.data["userNo"], v.data["bizType"], v.data["amount"]])
            response = cur.fetchone()[0]
        if isinstance(response, str):  # jsonb arrives as text through Django's cursor
            response = json.loads(response)
        processing.sign(response)
        return response


def one_iteration(caller: Caller, mix: str, customer: str, payee: str) -> list[tuple[float, dict[str, Any]]]:
    """One unit of a mix; returns (seconds, response) per request made."""
    out = []

    def timed(service: str, **data: Any) -> dict[str, Any]:
        t0 = time.perf_counter()
        resp = caller.call(service, **data)
        out.append((time.perf_counter() - t0, resp))
        return resp

    if mix == "freeze_post":
        freeze = timed("USER_PRE_TRANSACTION", userNo=customer, bizType="ALLOCATION", amount=AMOUNT)
        if freeze.get("respCode") == OK:
            timed("TRANSFER", bizType="ALLOCATION_FEE", payer=customer, payee=payee, amount=AMOUNT,
                  preRequestNo=freeze["requestNo"])
    elif mix == "transfer":
        timed("TRANSFER", bizType="COMPENSATION", payer="PLATFORM_CAPITAL", payee=customer, amount=AMOUNT)
        timed("TRANSFER", bizType="ALLOCATION_SETTLE", payer=customer, payee="PLATFORM_CAPITAL", amount=AMOUNT)
    elif mix == "freeze_only":
        timed("USER_PRE_TRANSACTION", userNo=customer, bizType="ALLOCATION", amount=AMOUNT)
    elif mix == "freeze_one_call":
        t0 = time.perf_counter()
        resp = caller.call_in_one_call(userNo=customer, bizType="ALLOCATION", amount=AMOUNT)
        out.append((time.perf_counter() - t0, resp))
    elif mix == "query_balance":
        timed("QUERY_BALANCE", userNo=customer)
    elif mix == "batch_freeze_post":
        t0 = time.perf_counter()
        items = batch_freeze_post_items(caller, customer, payee)
        resp = caller.call("BATCH", items=items)
        seconds = time.perf_counter() - t0
        # One sample per item (ops count items); its "latency" is the batch's round trip.
        out.extend((seconds, r) for r in resp.get("results") or [resp] * len(items))
    else:
        raise ValueError(mix)
    return out


def batch_freeze_post_items(caller: Caller, customer: str, payee: str) -> list[dict[str, Any]]:
    """``caller.batch_items`` items: freeze + post pairs, each post paying its freeze out
    (the item after it, so it sees the freeze) to the payee platform account. The pairs go
    round the sender's ``caller.batch_customers`` (a hot loan's batch has a different
    investor per item): one account changed hundreds of times in one transaction gets slow
    in PostgreSQL (docs/benchmarks.md, BATCH)."""
    items: list[dict[str, Any]] = []
    for n in range(caller.batch_items // 2):
        if caller.batch_customers:
            customer = caller.batch_customers[n % len(caller.batch_customers)]
        freeze_no = caller.request_no()
        items.append({"serviceName": "USER_PRE_TRANSACTION", "data": {
            "requestNo": freeze_no, "userNo": customer, "bizType": "ALLOCATION", "amount": AMOUNT}})
        items.append({"serviceName": "TRANSFER", "data": {
            "requestNo": caller.request_no(), "bizType": "ALLOCATION_FEE", "payer": customer, "payee": payee,
            "amount": AMOUNT, "preRequestNo": freeze_no}})
    return items


BATCH_FREEZES = (
    "SELECT bench_freeze_in_one_call(p, r, d, q, u, b, a) "
    "FROM unnest(%s::text[], %s::text[], %s::text[], %s::jsonb[], %s::text[], %s::text[], %s::bigint[]) "
    "WITH ORDINALITY AS t(p, r, d, q, u, b, a, n) ORDER BY n"
)


class FreezeBatcher:
    """The batching-writer variant of the ceiling prototype: request threads verify and sign
    in parallel and hand their freeze to one writer thread per process, which sends whatever
    is waiting (up to ``limit``) as one statement, one implicit transaction, and answers each
    thread after the COMMIT (durability unchanged). Benchmark-only; each thread freezes from
    its own customer, so batches never lock rows in conflicting orders."""

    def __init__(self, limit: int = 32):
        import threading

        import psycopg

        self.limit, self.pending = limit, queue.SimpleQueue()
        self.conn = psycopg.connect(host=PG_HOST, port=PG_PORT, user=PG_USER, dbname=BANK_DB, autocommit=True)
        self.batches = 0
        threading.Thread(target=self._loop, daemon=True).start()

    def submit(self, params: tuple) -> dict[str, Any]:
        import threading

        slot: list[Any] = [None, threading.Event()]
        self.pending.put((params, slot))
        slot[1].wait()
        return slot[0]

    def _loop(self) -> None:
        while True:
            items = [self.pending.get()]
            while len(items) < self.limit:
                try:
                    items.append(self.pending.get_nowait())
                except queue.Empty:
                    break
            columns = [list(c) for c in zip(*(params for params, _ in items), strict=True)]
            rows = self.conn.execute(BATCH_FREEZES, columns).fetchall()
            self.batches += 1
            for (_, slot), (response,) in zip(items, rows, strict=True):
                slot[0] = response
                slot[1].set()


def run_batched(wid: int, cmd: dict[str, Any]) -> dict[str, Any]:
    """``cmd["threads"]`` request threads in this process sharing one FreezeBatcher."""
    import threading

    from wanxin.bank import processing
    from wanxin.protocol import messages

    if wid >= cmd["processes"]:
        return {"wid": wid, "ops": 0, "errors": 0, "samples": [], "latencies": [], "cpu_s": 0.0, "profile": None}
    batcher = FreezeBatcher()
    end_at = cmd["start_at"] + cmd["seconds"]
    results: list[tuple[float, dict[str, Any]]] = []
    lock = threading.Lock()

    def one(caller: Caller, customer: str) -> tuple[float, dict[str, Any]]:
        t0 = time.perf_counter()
        v = processing.verify(caller.envelope("USER_PRE_TRANSACTION", {"userNo": customer, "bizType": "ALLOCATION",
                                                                        "amount": AMOUNT}),
                              allowed=messages.DIRECT_SERVICES)
        response = batcher.submit((v.platform.platform_no, v.data["requestNo"], v.digest, json.dumps(v.data),
                                   v.data["userNo"], v.data["bizType"], v.data["amount"]))
        processing.sign(response)
        return time.perf_counter() - t0, response

    def thread_main(t: int) -> None:
        caller = Caller(wid * 100 + t, cmd["tag"])
        customer = cmd["customers"][t % len(cmd["customers"])]
        one(caller, customer)  # warm up
        while time.time() < cmd["start_at"]:
            time.sleep(0.002)
        mine = []
        while True:
            outcome = one(caller, customer)
            if time.time() > end_at:
                break
            mine.append(outcome)
        with lock:
            results.extend(mine)

    threads = [threading.Thread(target=thread_main, args=(t,)) for t in range(cmd["threads"])]
    usage0 = resource.getrusage(resource.RUSAGE_SELF)
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    usage1 = resource.getrusage(resource.RUSAGE_SELF)
    errors = [r for _, r in results if r.get("respCode") != OK]
    return {"wid": wid, "ops": len(results), "errors": len(errors),
            "samples": [f"{r.get('respCode')} {r.get('respMsg')}" for r in errors[:3]],
            "latencies": [s for s, _ in results], "profile": None,
            "cpu_s": (usage1.ru_utime - usage0.ru_utime) + (usage1.ru_stime - usage0.ru_stime),
            "batches": batcher.batches}


def run_phase(wid: int, cmd: dict[str, Any]) -> dict[str, Any]:
    if cmd["mix"] == "freeze_batched":
        return run_batched(wid, cmd)
    caller = Caller(wid, cmd["tag"], cmd.get("base_url"))
    caller.batch_items = cmd.get("batch_items", caller.batch_items)
    caller.batch_customers = [batch_customer_no(wid, i) for i in range(cmd.get("batch_customers", 0))]
    customers, payees = cmd["customers"], cmd["payees"]
    mix, start_at, end_at = cmd["mix"], cmd["start_at"], cmd["start_at"] + cmd["seconds"]
    latencies: list[float] = []
    ops = errors = 0
    samples: list[str] = []
    i = 0
    try:
        for _ in range(2):  # warm up: connections, caches, code paths
            one_iteration(caller, mix, customers[i % len(customers)], payees[i % len(payees)])
            i += 1
        while time.time() < start_at:
            time.sleep(0.005)
        usage0 = resource.getrusage(resource.RUSAGE_SELF)
        profiler = None
        if cmd.get("profile") == "cpu":  # CPU time of this process: what the Python work costs
            profiler = cProfile.Profile(time.process_time)
        elif cmd.get("profile") == "wall":  # wall time: includes waiting for PostgreSQL and locks
            profiler = cProfile.Profile()
        if profiler is not None:
            profiler.enable()
        while True:
            results = one_iteration(caller, mix, customers[i % len(customers)], payees[i % len(payees)])
            i += 1
            if time.time() > end_at:
                break  # this unit finished after the window: not counted
            for seconds, resp in results:
                ops += 1
                latencies.append(seconds)
                if resp.get("respCode") != OK:
                    errors += 1
                    if len(samples) < 3:
                        samples.append(f"{resp.get('respCode')} {resp.get('respMsg')}")
        usage1 = resource.getrusage(resource.RUSAGE_SELF)
        cpu = (usage1.ru_utime - usage0.ru_utime) + (usage1.ru_stime - usage0.ru_stime)
        profile_text = None
        if profiler is not None:
            profiler.disable()
            profile_text = profile_report(profiler, cmd["profile"])
    finally:
        caller.close()
    return {"wid": wid, "ops": ops, "errors": errors, "samples": samples, "latencies": latencies,
            "cpu_s": cpu, "profile": profile_text}


def profile_report(profiler: cProfile.Profile, timer: str) -> str:
    stream = io.StringIO()
    stream.write(f"cProfile of worker 0, timer: {'process CPU time' if timer == 'cpu' else 'wall clock'}\n")
    stats = pstats.Stats(profiler, stream=stream)
    stats.strip_dirs()
    stream.write("== top functions by own time ==\n")
    stats.sort_stats("tottime").print_stats(30)
    stream.write("\n== top functions by cumulative time ==\n")
    stats.sort_stats("cumulative").print_stats(45)
    return stream.getvalue()


def worker_main(wid: int, commands: mp.Queue, results: mp.Queue) -> None:
    import django

    django.setup()
    results.put({"wid": wid, "ready": True})
    while True:
        cmd = commands.get()
        if cmd is None:
            break
        try:
            results.put(run_phase(wid, cmd))
        except Exception:
            results.put({"wid": wid, "failed": traceback.format_exc()})
        finally:
            from django.db import connections

            connections.close_all()


class Workers:
    def __init__(self, count: int):
        ctx = mp.get_context("spawn")
        self.results = ctx.Queue()
        self.commands = [ctx.Queue() for _ in range(count)]
        self.procs = [ctx.Process(target=worker_main, args=(w, self.commands[w], self.results), daemon=True)
                      for w in range(count)]
        for p in self.procs:
            p.start()
        for _ in range(count):
            self._get()

    def _get(self, timeout: float = 120) -> dict[str, Any]:
        while True:
            try:
                msg = self.results.get(timeout=timeout)
            except queue.Empty:
                raise SystemExit("a benchmark worker did not answer in time") from None
            if "failed" in msg:
                raise SystemExit(f"worker {msg['wid']} failed:\n{msg['failed']}")
            return msg

    def send(self, commands: list[dict[str, Any]]) -> None:
        for q, cmd in zip(self.commands, commands, strict=True):
            q.put(cmd)

    def collect(self, count: int) -> list[dict[str, Any]]:
        return sorted((self._get(timeout=300) for _ in range(count)), key=lambda r: r["wid"])

    def stop(self) -> None:
        for q in self.commands:
            q.put(None)
        for p in self.procs:
            p.join(10)
            if p.is_alive():
                p.terminate()


# -- seeding and checks (main process, after django.setup) -----------------------------------


def customer_no(wid: int, i: int) -> str:
    return f"bc{wid:02d}x{i:03d}"


def batch_customer_no(wid: int, i: int) -> str:
    return f"bb{wid:02d}x{i:03d}"


def migrate_and_seed(workers: int, per_worker: int, batch_per_worker: int = 0) -> dict[str, Any]:
    from django.conf import settings
    from django.core.management import call_command
    from django.db import connections

    from wanxin.bank import accounts, staff
    from wanxin.bank.models import Account
    from wanxin.protocol import messages

    call_command("migrate", database="default", interactive=False, verbosity=0)
    call_command("migrate", database="bank", interactive=False, verbosity=0)
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


# -- HTTP server --------------------------------------------------------------------------


# -- phases and reporting -----------------------------------------------------------------


def backend_cpu_seconds(dbname: str, *, until: float, every: float = 0.05) -> float:
    """CPU seconds of the PostgreSQL backends serving ``dbname`` until ``until``, from /proc,
    sampled: a backend seen first during the window counts from its start, one alive before
    from its first sample, each to its last sample (so a lower bound: a backend's last
    ``every`` seconds before it exits are missed). Only this database's backends: the machine
    is shared, and the other load's PostgreSQL work is not ours."""
    import psycopg

    tick = os.sysconf("SC_CLK_TCK")
    seen: dict[int, list[float]] = {}
    first_round = True
    with psycopg.connect(host=PG_HOST, port=PG_PORT, user=PG_USER, dbname="postgres", autocommit=True) as conn:
        while time.time() < until:
            pids = [r[0] for r in conn.execute("SELECT pid FROM pg_stat_activity WHERE datname = %s", [dbname])]
            for pid in pids:
                try:
                    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
                except OSError:
                    continue
                used = (int(fields[11]) + int(fields[12])) / tick
                if pid not in seen:
                    seen[pid] = [used if first_round else 0.0, used]
                seen[pid][1] = used
            first_round = False
            time.sleep(every)
    return sum(last - first for first, last in seen.values())


def measure(workers: Workers, *, name: str, label: str, kind: str, mix: str, seconds: float, per_worker: int,
            payees_for, base_url: str | None = None, profile: str | None = None,
            extra: dict[str, Any] | None = None, server_pid: int | None = None) -> dict[str, Any]:
    start_at = time.time() + 2.0
    tag = f"p{next(PHASE_NUMBERS)}"  # requestNos are f"{tag}w{worker}n{seq}": unique per run
    commands = [
        {"tag": tag, "mix": mix, "seconds": seconds, "start_at": start_at, "base_url": base_url,
         "customers": [customer_no(w, i) for i in range(per_worker)], "payees": payees_for(w),
         "profile": profile if w == 0 else None, **(extra or {})}
        for w in range(len(workers.procs))
    ]
    workers.send(commands)
    time.sleep(max(0.0, start_at - time.time()))
    cpu0 = cpu_busy_seconds()
    server_cpu0 = tree_cpu_seconds(server_pid) if server_pid else 0.0
    if server_pid:  # where the CPU goes, by process: PostgreSQL's backends of this database
        import threading

        pg_cpu: list[float] = []
        sampler = threading.Thread(target=lambda: pg_cpu.append(backend_cpu_seconds(BANK_DB,
                                                                                     until=start_at + seconds)))
        sampler.start()
    waits = sample_backends(BANK_DB, until=start_at + seconds)
    cpu = cpu_busy_seconds() - cpu0
    server_cpu = tree_cpu_seconds(server_pid) - server_cpu0 if server_pid else 0.0
    if server_pid:
        sampler.join()
    results = workers.collect(len(commands))
    ops = sum(r["ops"] for r in results)
    latencies = sorted(x for r in results for x in r["latencies"])
    row = {
        "name": name,
        "label": label,
        "kind": kind,
        "mix": mix,
        "workers": len(results),
        "seconds": seconds,
        "requests": ops,
        "requests_per_s": round(ops / seconds, 1),
        "p50_ms": round(percentile(latencies, 50) * 1000, 2),
        "p99_ms": round(percentile(latencies, 99) * 1000, 2),
        "errors": sum(r["errors"] for r in results),
        "error_samples": [s for r in results for s in r["samples"]][:5],
        "per_worker_requests": [r["ops"] for r in results],
        **({"batches": sum(r.get("batches", 0) for r in results)} if mix == "freeze_batched" else {}),
        # CPU per request: of the worker processes (service layer: the whole bank pipeline
        # in Python; HTTP: the clients only) and of the whole machine (PostgreSQL, gunicorn,
        # workers, and anything else running).
        "worker_cpu_ms_per_request": round(sum(r["cpu_s"] for r in results) / max(ops, 1) * 1000, 3),
        "machine_cpu_ms_per_request": round(cpu / max(ops, 1) * 1000, 3),
        "machine_cpu_busy_share": round(cpu / seconds / (os.cpu_count() or 1), 3),
        "bank_backend_states": waits,
        "loadavg_after": [round(x, 2) for x in os.getloadavg()],
    }
    if server_pid:
        row["cpu_ms_per_item_by_process"] = {
            "bank_gunicorn": round(server_cpu / max(ops, 1) * 1000, 4),
            "postgresql_bank_backends_lower_bound": round(pg_cpu[0] / max(ops, 1) * 1000, 4),
            "senders": row["worker_cpu_ms_per_request"],
        }
    if mix in ("freeze_post", "transfer"):
        row["pairs_per_s"] = round(ops / 2 / seconds, 1)
    if profile:
        row["profile"] = next((r["profile"] for r in results if r["profile"]), None)
    print(f"  {label:<58} {row['requests_per_s']:>8.1f} req/s  p50 {row['p50_ms']:.1f} ms  "
          f"p99 {row['p99_ms']:.1f} ms  errors {row['errors']}", flush=True)
    return row


def print_table(rows: list[dict[str, Any]], pgbench: dict[str, Any]) -> None:
    header = (f"{'figure':<58} {'req/s':>8} {'p50 ms':>7} {'p99 ms':>7} {'errors':>6} "
              f"{'cpu ms/req':>10} {'× pgbench':>9}")
    print()
    print(header)
    print("-" * len(header))
    print(f"{'pgbench TPC-B tps (-s 8, -c 8 -j 2)':<58} {pgbench['tps']:>8.1f} "
          f"{pgbench['latency_avg_ms'] or 0:>7.2f} {'':>7} {'':>6} {pgbench['machine_cpu_ms_per_tx']:>10.2f} "
          f"{1.0:>9.3f}")
    for row in rows:
        print(f"{row['label']:<58} {row['requests_per_s']:>8.1f} {row['p50_ms']:>7.2f} {row['p99_ms']:>7.2f} "
              f"{row['errors']:>6} {row['machine_cpu_ms_per_request']:>10.2f} {row['ratio_to_pgbench']:>9.3f}")
    print("(cpu ms/req: busy CPU of the whole machine, all cores, per request or pgbench transaction)")
    print()


def load_note(machine: dict[str, Any]) -> str:
    start, end = machine.get("loadavg_at_start"), machine.get("loadavg_at_end")
    return (f"machine shared with other work: 1-minute load average {start[0]:.1f} at the start, {end[0]:.1f} at "
            f"the end, on {os.cpu_count()} cores; every figure competes with that load (compare ratios)")


class _BatchOnly(Exception):
    """--batch-only: the other phases are skipped."""


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.ledger", description=__doc__.split("\n\n")[0])
    parser.add_argument("--seconds", type=float, default=15, help="length of each service-layer phase")
    parser.add_argument("--http-seconds", type=float, default=10, help="length of each HTTP phase")
    parser.add_argument("--pgbench-seconds", type=int, default=20)
    parser.add_argument("--workers", type=int, default=8, help="concurrent worker processes / HTTP clients")
    parser.add_argument("--customers-per-worker", type=int, default=8)
    parser.add_argument("--batch-processes", type=int, default=1,
                        help="processes of the batched ceiling phase (the workers are split among them as threads)")
    parser.add_argument("--skip-http", action="store_true")
    parser.add_argument("--batch-seconds", type=float, default=15, help="length of the BATCH phase")
    parser.add_argument("--batch-items", type=int, default=250, help="items per BATCH (freeze + post pairs; up to 1,000)")
    parser.add_argument("--batch-customers-per-sender", type=int, default=125,
                        help="customers each BATCH sender spreads its pairs over")
    parser.add_argument("--batch-only", action="store_true",
                        help="quick variant: pgbench, seed and the BATCH phase only")
    parser.add_argument("--skip-pooled", action="store_true",
                        help="skip the HTTP variant with pooled database connections")
    parser.add_argument("--profile", nargs="?", const="cpu", choices=["cpu", "wall"],
                        help="also run a freeze+post phase with worker 0 under cProfile, timing CPU "
                             "(default) or wall time; written next to the JSON as ledger_profile.txt")
    parser.add_argument("--output", type=Path, default=RESULTS / "ledger.json")
    args = parser.parse_args(argv)

    started = time.monotonic()
    sys.path.insert(0, str(ROOT))
    configure_environment(PLATFORM_DB, BANK_DB)
    print(f"Wanxin ledger benchmark: {args.workers} workers, PostgreSQL {PG_HOST}:{PG_PORT}", flush=True)
    machine = machine_facts()
    server = server_facts()

    print("pgbench TPC-B…", flush=True)
    pgbench = run_pgbench(PGBENCH_DB, scale=8, clients=8, threads=2, seconds=args.pgbench_seconds)
    drop_database(PGBENCH_DB)
    print(f"  pgbench: {pgbench['tps']:.1f} tps", flush=True)

    print("Databases, migrations and seed…", flush=True)
    recreate_databases([PLATFORM_DB, BANK_DB])
    import django

    django.setup()
    from django.db import connections

    seed = migrate_and_seed(args.workers, args.customers_per_worker, args.batch_customers_per_sender)
    counts = statement_counts()
    floor = python_floor()
    print(f"Python floor per request (signatures, verify, validation): {floor['total']:.3f} ms CPU", flush=True)
    connections.close_all()
    pg_only = None
    if not args.batch_only:
        print("Ceiling prototype driven by pgbench (no Python):", flush=True)
        pg_only = pg_only_ceiling(args.pgbench_seconds)

    rows: list[dict[str, Any]] = []
    profile_text = None
    workers = Workers(args.workers)
    try:
        port = free_port()
        print(f"BATCH over HTTP via gunicorn gthread 2×8 (wanxin.settings) on :{port}, "
              f"{args.workers} senders × {args.batch_items} items:", flush=True)
        server_proc = start_gunicorn(port, "wanxin.settings")
        try:
            batch = {"seconds": args.batch_seconds, "per_worker": args.customers_per_worker,
                     "base_url": f"http://127.0.0.1:{port}", "server_pid": server_proc.pid,
                     "extra": {"batch_items": args.batch_items,
                               "batch_customers": args.batch_customers_per_sender}}
            rows.append(measure(workers, name="http_batch_freeze_post", kind="batch", mix="batch_freeze_post",
                                label="HTTP: BATCH items/s, freeze+post → PLATFORM_INCOME",
                                payees_for=lambda w: ["PLATFORM_INCOME"], **batch))
        finally:
            stop_server(server_proc)
        if args.batch_only:
            raise _BatchOnly
        print("Service layer (verify → execute_direct → sign), one process per worker:", flush=True)
        common = {"seconds": args.seconds, "per_worker": args.customers_per_worker}
        rows.append(measure(workers, name="svc_freeze_post_income", kind="service", mix="freeze_post",
                            label="service: freeze+post → PLATFORM_INCOME",
                            payees_for=lambda w: ["PLATFORM_INCOME"], **common))
        rows.append(measure(workers, name="svc_freeze_post_spread", kind="service", mix="freeze_post",
                            label="service: freeze+post → INCOME / CAPITAL (spread)",
                            payees_for=lambda w: ["PLATFORM_INCOME", "PLATFORM_CAPITAL"], **common))
        rows.append(measure(workers, name="svc_transfer", kind="service", mix="transfer",
                            label="service: transfers CAPITAL ⇄ customer",
                            payees_for=lambda w: ["PLATFORM_CAPITAL"], **common))
        rows.append(measure(workers, name="svc_freeze_only", kind="service", mix="freeze_only",
                            label="service: freezes only (no hot row; reference)",
                            payees_for=lambda w: ["PLATFORM_INCOME"], **common))
        rows.append(measure(workers, name="ceiling_freeze_one_call", kind="ceiling", mix="freeze_one_call",
                            label="ceiling: freezes, each one server-side function call",
                            payees_for=lambda w: ["PLATFORM_INCOME"], **common))
        processes = max(1, min(args.batch_processes, args.workers))
        threads = max(1, args.workers // processes)
        rows.append(measure(workers, name="ceiling_freeze_batched", kind="ceiling", mix="freeze_batched",
                            label=f"ceiling: freezes batched, {processes} processes × {threads} threads",
                            payees_for=lambda w: ["PLATFORM_INCOME"],
                            extra={"processes": processes, "threads": threads}, **common))
        if args.profile:
            prof = measure(workers, name="svc_profiled", kind="profile", mix="freeze_post",
                           label=f"service: freeze+post → INCOME, worker 0 profiled ({args.profile})",
                           payees_for=lambda w: ["PLATFORM_INCOME"], profile=args.profile, **common)
            profile_text = prof.pop("profile")
            rows.append(prof)
        if not args.skip_http:
            variants = [("wanxin.settings", "http", "")]
            if not args.skip_pooled:
                variants.append(("benchmarks.settings_pooled", "http_pooled", ", pooled connections"))
            for settings_module, kind, suffix in variants:
                port = free_port()
                print(f"HTTP via gunicorn gthread 2×8 ({settings_module}) on :{port}:", flush=True)
                server_proc = start_gunicorn(port, settings_module)
                try:
                    http = {"seconds": args.http_seconds, "per_worker": args.customers_per_worker,
                            "base_url": f"http://127.0.0.1:{port}"}
                    rows.append(measure(workers, name=f"{kind}_query_balance", kind=kind, mix="query_balance",
                                        label=f"HTTP: QUERY_BALANCE{suffix}",
                                        payees_for=lambda w: ["PLATFORM_INCOME"], **http))
                    rows.append(measure(workers, name=f"{kind}_transfer", kind=kind, mix="transfer",
                                        label=f"HTTP: transfers CAPITAL ⇄ customer{suffix}",
                                        payees_for=lambda w: ["PLATFORM_CAPITAL"], **http))
                finally:
                    stop_server(server_proc)
    except _BatchOnly:
        pass
    finally:
        workers.stop()

    for row in rows:
        row["ratio_to_pgbench"] = round(row["requests_per_s"] / pgbench["tps"], 4)
        if "pairs_per_s" in row:
            row["pairs_ratio_to_pgbench"] = round(row["pairs_per_s"] / pgbench["tps"], 4)

    batch_row = next(row for row in rows if row["name"] == "http_batch_freeze_post")
    print("Checking the ledger invariants…", flush=True)
    invariants = check_invariants()
    connections.close_all()
    print_table(rows, pgbench)
    print(f"invariants.total_balance() == {invariants['total_balance']}; "
          f"invariants.replay_mismatches() == {invariants['replay_mismatches']}; "
          f"negative customers: {invariants['negative_customers']}  "
          f"→ {'OK' if invariants['ok'] else 'VIOLATED'}")
    print(f"({invariants['requests_recorded']} requests, {invariants['transfers']} transfers, "
          f"{invariants['balance_changes']} balance changes recorded)")
    print("Statements per request, one process, no contention (round trips add BEGIN and COMMIT):")
    for mix, c in counts.items():
        print(f"  {mix:<14} {c['statements_per_request']:>5} statements, {c['ms_per_request']:.2f} ms/request, "
              f"{c['ms_in_statements_per_request']:.2f} ms of it in statements")

    result = {
        **result_head("ledger", started=started, args=args, machine=machine),
        "postgresql": server,
        "pgbench": pgbench,
        "seed": seed,
        "statement_counts": counts,
        "ceiling": {
            "what": "USER_PRE_TRANSACTION as one server-side function (benchmarks/sql/freeze_in_one_call.sql)",
            "python_floor_ms_per_request": floor,
            "postgresql_alone": pg_only,
        },
        "figures": rows,
        "ratios": {row["name"]: row["ratio_to_pgbench"] for row in rows},
        "batch_items_per_s": batch_row["requests_per_s"],
        "batch_ratio_to_pgbench": batch_row["ratio_to_pgbench"],
        "load_note": load_note(machine),
        "batch_target": "BATCH items/s (freezes and posts, 8 concurrent senders, signatures included, HTTP) "
                        ">= 1.5 x pgbench TPC-B tps",
        "invariants": invariants,
        "target": "ledger requests/s >= 1.0 x pgbench TPC-B tps",
    }
    args.output.parent.mkdir(parents=True, exist_ok=True)
    args.output.write_text(json.dumps(result, indent=2, ensure_ascii=False) + "\n")
    if profile_text:
        (args.output.parent / "ledger_profile.txt").write_text(profile_text)
    print(f"Wrote {args.output.relative_to(ROOT) if args.output.is_relative_to(ROOT) else args.output} "
          f"in {result['runtime_s']:.0f} s total.")
    return 0 if invariants["ok"] else 1


if __name__ == "__main__":
    sys.exit(main())
