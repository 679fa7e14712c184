"""A hot loan: N funded investors bid at once on one loan over HTTP (issue 4, benchmark a).

    python -m benchmarks.hot_loan [--investors 1000] [--pgbench-seconds 20]

On the PostgreSQL at 127.0.0.1:5432 (user postgres, trust auth) it drops and recreates
wanxin_hot (platform), wanxin_hot_bank (bank) and wanxin_hot_pgbench, generates a
throw-away key pair, and serves the platform and the bank as two separate gunicorn
processes (gthread, 2 workers × 8 threads each, ``WANXIN_ROLE=platform`` / ``bank``), the
platform reaching the bank over HTTP at ``BANK_URL`` as in production; the platform's
cache is the local Redis.

Seeding (main process, ``WANXIN_ROLE=all``):
  - real code paths: staff funding of PLATFORM_CAPITAL; one ``TRANSFER COMPENSATION``
    per investor through the bank's signed pipeline (the ledger, so the bank's invariants
    hold); one bearer token per investor (``accounts.auth.token_issue``); the borrower's
    ``application_submit`` and the reviewer's ``project_approve``, whose CREATE_PROJECT
    goes to the bank gunicorn over HTTP;
  - set-based (``bulk_create``), where the real path is a browser gateway flow per
    customer: the investors' bank ``Account`` rows (open, TENDER authorised) and their
    platform users and OPEN ``DepositoryAccount`` mirrors; the borrower's accounts and
    approved KYC; the reviewer operator.

The loan's terms: increment = minimum = 100 yuan, per-investor cap 1,000 yuan; each
investor bids a random 1–10 increments, and the loan's amount is the bids' total ÷ 1.3
(rounded down to the increment), so about a quarter of the money is refused.

The bids: one client process opens one HTTP connection per investor, then releases every
``POST /api/v1/loans/projects/{id}/tenders`` (bearer token, ``Idempotency-Key``) at the
same instant (a minimal HTTP/1.1 client on asyncio streams, so the client's own CPU stays
small on a small machine). Each bid's latency runs from the release to its answer. A 201
answer is accepted (the freeze is at the bank when the platform answers), a 4xx is refused
with its code.

Before the burst, a probe: 20 bids one after another on a second small loan, through the
platform's WSGI handler in this process (the bank over HTTP): the latency of one bid without
contention and the SQL statements the platform runs per bid.

Measured: bids/s (all answered: N ÷ wall time from the release to the last answer),
accepted bids/s, p50/p99 latency, CPU per bid of the platform's and the bank's gunicorn,
the client and the whole machine, the backends' states in both databases, and pgbench
TPC-B in the same run (the target: bids/s ≥ 0.15 × its tps). Checked: no
over-subscription on the platform (raised, frozen) or at the bank (frozen tenders of the
project), platform raised == sum of FROZEN tenders == the bank's frozen on the project ==
the accepted bids, no request left pending, the bank's ``total_balance() == 0`` and
``replay_mismatches() == []`` (exit status 1 if any check fails; a missed target is only
reported). Results go to ``benchmarks/results/hot_loan.json``; ``--profile [cpu|wall]`` also
records every gunicorn worker with py-spy during the burst (``hot_loan_profile.txt``).
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import json
import os
import random
import re
import resource
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter
from decimal import Decimal
from pathlib import Path
from typing import Any

from benchmarks import ledger
from benchmarks.common import (
    RESULTS,
    ROOT,
    StatementCounter,
    cpu_busy_seconds,
    drop_database,
    free_port,
    machine_facts,
    percentile,
    pgbench_reference,
    recreate_databases,
    result_head,
    sample_backends,
    server_facts,
    start_gunicorn,
    stop_server,
    tree_cpu_seconds,
)
from benchmarks.common import configure_environment as configure_databases

PLATFORM_DB, BANK_DB, PGBENCH_DB = "wanxin_hot", "wanxin_hot_bank", "wanxin_hot_pgbench"
REDIS_URL = "redis://127.0.0.1:6379/0"  # keys are namespaced by database name / user number
TARGET_RATIO = 0.15
INCREMENT = 100_00  # fen: 100 yuan
MAX_UNITS = 10  # a bid is 1..10 increments; the per-investor cap is 10 increments
BALANCE = 100_000_00  # fen per investor, far more than the cap
BORROWER_NO, PROBE_BORROWER_NO = "HOTBORROWER", "HOTPROBE"
PROBE_BIDS = 20  # one bid at a time, in-process, on a second loan: statements and latency


def investor_no(i: int) -> str:
    return f"HOTI{i:05d}"


# -- environment ----------------------------------------------------------------------------


def configure_environment(platform_port: int, bank_port: int) -> dict[str, dict[str, str]]:
    """Fresh keys and the benchmark's databases for this process and both servers; returns
    the per-server environment (role and where to reach each other)."""
    configure_databases(PLATFORM_DB, BANK_DB)  # keys, DEBUG=0, log levels, WANXIN_ROLE=all for seeding
    platform_url = f"http://127.0.0.1:{platform_port}"
    notify = f"{platform_url}/api/v1/depository/notify"
    os.environ.update({
        "REDIS_URL": REDIS_URL,
        "BANK_URL": f"http://127.0.0.1:{bank_port}/bank",
        "PLATFORM_BASE_URL": platform_url,
        "PLATFORM_NOTIFY_URL": notify,
        "BANK_NOTIFY_URL": notify,
    })
    os.environ.pop("WANXIN_TEST_DB_SUFFIX", None)
    return {"platform": {"WANXIN_ROLE": "platform"}, "bank": {"WANXIN_ROLE": "bank"}}


# -- seeding (main process, after django.setup) ------------------------------------------------


def seed(n: int, rng: random.Random, oversubscribe: float) -> dict[str, Any]:
    from django.conf import settings
    from django.contrib.auth import get_user_model
    from django.contrib.auth.hashers import make_password
    from django.contrib.auth.models import Group
    from django.core.management import call_command
    from django.utils import timezone

    from wanxin.accounts.auth import token_issue
    from wanxin.audit import roles
    from wanxin.backoffice.services import roles_sync
    from wanxin.bank import accounts, staff
    from wanxin.bank.models import Account
    from wanxin.funds.models import DepositoryAccount
    from wanxin.kyc.models import KycApplication
    from wanxin.lending import domain, services

    User = get_user_model()
    started = time.monotonic()
    call_command("migrate", database="default", interactive=False, verbosity=0)
    call_command("migrate", database="bank", interactive=False, verbosity=0)
    migrated = time.monotonic()
    platform_no = settings.PLATFORM_NO
    names = [investor_no(i) for i in range(n)]
    auth = ["REPAYMENT", "TENDER"]

    # The bank: accounts set-based, money through the ledger.
    staff.fund_platform_capital(platform_no=platform_no, amount=BALANCE * (n + 1), staff="benchmark")
    accounts.system(platform_no, Account.Kind.PLATFORM_INCOME)
    Account.objects.using("bank").bulk_create(
        [Account(platform_no=platform_no, account_no=name, kind=Account.Kind.CUSTOMER, status=Account.Status.OPEN,
                 full_name="Hot Investor", id_number=f"110101198001{i:06d}", mobile="13800138000",
                 role="INVESTOR", auth_list=auth) for i, name in enumerate(names)]
        + [Account(platform_no=platform_no, account_no=no, kind=Account.Kind.CUSTOMER, status=Account.Status.OPEN,
                   full_name="Hot Borrower", id_number=f"11010119700101999{k}", mobile="13600000000",
                   role="BORROWER", auth_list=["REPAYMENT"]) for k, no in enumerate((BORROWER_NO, PROBE_BORROWER_NO))]
    )
    caller = ledger.Caller(99, "seed")
    for name in names:
        resp = caller.call("TRANSFER", bizType="COMPENSATION", payer="PLATFORM_CAPITAL", payee=name, amount=BALANCE)
        if resp["respCode"] != ledger.OK:
            raise SystemExit(f"funding {name} failed: {resp}")
    funded = time.monotonic()

    # The platform: users and their open depository accounts set-based, tokens for real.
    now = timezone.now()
    users = User.objects.bulk_create(
        [User(username=f"hot{i:05d}", password=make_password(None), mobile=f"137{i:08d}", role="INVESTOR",
              user_no=name) for i, name in enumerate(names)]
    )
    DepositoryAccount.objects.bulk_create(
        [DepositoryAccount(user=u, user_no=u.user_no, status="OPEN", auth_list=auth, requested_auth=auth,
                           available=BALANCE, mobile=u.mobile, role="INVESTOR", opened_at=now) for u in users]
    )
    tokens = [token_issue(user=u, name="hot_loan") for u in users]
    if not Group.objects.filter(name=roles.LOAN_REVIEWER).exists():
        roles_sync()
    reviewer = User.objects.create_user(username="hotreviewer", password=None, is_operator=True)
    reviewer.groups.set(Group.objects.filter(name=roles.LOAN_REVIEWER))
    reviewer = User.objects.get(pk=reviewer.pk)
    terms = domain.Terms(
        borrower_rate=Decimal("0.120000"), investor_rate=Decimal("0.100000"), service_fee_rate=Decimal("0.020000"),
        window_days=7, min_investment=INCREMENT, increment=INCREMENT, per_investor_cap=MAX_UNITS * INCREMENT)

    def collecting_loan(user_no: str, mobile: str, amount: int):
        """A borrower (accounts set-based, their bank account created above) whose loan goes
        through application_submit and project_approve (CREATE_PROJECT over HTTP)."""
        borrower = User.objects.create_user(username=user_no.lower(), password=None, mobile=mobile,
                                            role="BORROWER", user_no=user_no)
        DepositoryAccount.objects.create(user=borrower, user_no=user_no, status="OPEN", auth_list=["REPAYMENT"],
                                         mobile=mobile, role="BORROWER", opened_at=now)
        KycApplication.objects.create(customer=borrower, status="APPROVED", rating="A", credit_limit=1_000_000_00,
                                      id_number_index=f"hot-loan-{user_no}")
        project = services.application_submit(borrower=borrower, data=services.ApplicationInput(
            amount=amount, months=12, method="EQUAL_INSTALLMENT", purpose="Hot loan benchmark",
            description="Bid on by every investor at once"))
        project = services.project_approve(operator=reviewer, project_id=project.pk, terms=terms)
        if project.status != domain.COLLECTING:
            raise SystemExit(f"the loan is {project.status} after approval: {project.bank_error}")
        return project

    # The bids and the loan they over-subscribe; a small second loan for the one-bid probe.
    units = [rng.randint(1, MAX_UNITS) for _ in range(n)]
    bids = [u * INCREMENT for u in units]
    amount = max(10 * INCREMENT, int(sum(units) / oversubscribe) * INCREMENT)
    project = collecting_loan(BORROWER_NO, "13600000000", amount)
    probe = collecting_loan(PROBE_BORROWER_NO, "13600000001", PROBE_BIDS * INCREMENT)
    done = time.monotonic()
    return {
        "investors": n,
        "project_id": project.pk,
        "project_no": project.project_no,
        "probe_project_id": probe.pk,
        "amount_fen": amount,
        "bids_total_fen": sum(bids),
        "oversubscription_offered": round(sum(bids) / amount, 3),
        "bids": bids,
        "tokens": tokens,
        "seconds": {"migrate": round(migrated - started, 1), "bank": round(funded - migrated, 1),
                    "platform": round(done - funded, 1)},
        "method": {
            "real code paths": ["staff.fund_platform_capital", "TRANSFER COMPENSATION per investor (signed "
                                "pipeline, in-process)", "accounts.auth.token_issue per investor",
                                "lending.services.application_submit and project_approve of the hot "
                                "loan and the probe loan (CREATE_PROJECT over HTTP to the bank gunicorn)"],
            "set-based": ["bank Account rows (OPEN, TENDER authorised)", "platform User rows",
                          "platform DepositoryAccount rows (OPEN, balance mirror)",
                          "borrowers' accounts and approved KYC, the reviewer operator"],
        },
    }


# -- the client ---------------------------------------------------------------------------------


def _parse(raw: bytes) -> tuple[int, dict[str, Any]]:
    head, _, body = raw.partition(b"\r\n\r\n")
    try:
        status = int(head.split(b" ", 2)[1])
    except (IndexError, ValueError):
        return 0, {"code": "no_answer", "raw": raw[:200].decode(errors="replace")}
    if b"transfer-encoding: chunked" in head.lower():
        chunks, rest = [], body
        while rest:
            size_line, _, rest = rest.partition(b"\r\n")
            size = int(size_line.split(b";")[0] or b"0", 16)
            if size == 0:
                break
            chunks.append(rest[:size])
            rest = rest[size + 2:]
        body = b"".join(chunks)
    try:
        return status, json.loads(body or b"{}")
    except ValueError:
        return status, {"code": "not_json", "raw": body[:200].decode(errors="replace")}


async def _burst(port: int, path: str, bids: list[tuple[str, int]], timeout: float) -> dict[str, Any]:
    """Open one connection per bid, then send every bid at the same instant."""
    connections = await asyncio.gather(*(asyncio.open_connection("127.0.0.1", port) for _ in bids))
    release = asyncio.Event()
    state: dict[str, float] = {}
    run = os.urandom(6).hex()  # idempotency keys live in Redis for 10 minutes: unique per run

    async def one(i: int, reader, writer, token: str, amount: int) -> dict[str, Any]:
        body = json.dumps({"amount": amount}).encode()
        request = (f"POST {path} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nAuthorization: Bearer {token}\r\n"
                   f"Idempotency-Key: {run}-{i}\r\nContent-Type: application/json\r\n"
                   f"Content-Length: {len(body)}\r\nConnection: close\r\n\r\n").encode() + body
        await release.wait()
        try:
            writer.write(request)
            await writer.drain()
            raw = await asyncio.wait_for(reader.read(), timeout)  # until the server closes
        except (OSError, TimeoutError) as exc:
            raw = f"error {type(exc).__name__}: {exc}".encode()
        answered = time.perf_counter()
        writer.close()
        status, payload = _parse(raw)
        return {"i": i, "amount": amount, "status": status, "code": payload.get("code", ""),
                "tender_status": payload.get("status", ""), "seconds": answered - state["t0"]}

    tasks = [asyncio.create_task(one(i, r, w, token, amount))
             for i, ((r, w), (token, amount)) in enumerate(zip(connections, bids, strict=True))]
    await asyncio.sleep(0.05)  # every task is waiting on the release
    state["t0"] = time.perf_counter()
    release.set()
    results = await asyncio.gather(*tasks)
    return {"results": results, "wall_s": max(r["seconds"] for r in results)}


# -- one bid at a time (in-process) ---------------------------------------------------------------


def probe(project_id: int, tokens: list[str]) -> dict[str, Any]:
    """PROBE_BIDS bids one after another on the probe loan, through the platform's WSGI
    handler in this process (the bank still over HTTP): latency without contention, the SQL
    statements the platform runs per bid (BEGIN/COMMIT not included) and their time."""
    from django.db import connections
    from django.test import Client

    from wanxin.lending.models import Tender

    counter = StatementCounter()

    client = Client()
    url = f"/api/v1/loans/projects/{project_id}/tenders"
    client.post(url, data={"amount": INCREMENT}, content_type="application/json",  # warm this process
                HTTP_AUTHORIZATION=f"Bearer {tokens[-1]}")
    latencies = []
    with connections["default"].execute_wrapper(counter):
        for token in tokens[:PROBE_BIDS - 1]:
            t0 = time.perf_counter()
            answer = client.post(url, data={"amount": INCREMENT}, content_type="application/json",
                                 HTTP_AUTHORIZATION=f"Bearer {token}", HTTP_IDEMPOTENCY_KEY=os.urandom(8).hex())
            latencies.append(time.perf_counter() - t0)
            if answer.status_code != 201 or answer.json()["status"] != "FROZEN":
                raise SystemExit(f"probe bid refused: {answer.status_code} {answer.content[:300]!r}")
    bids = len(latencies)
    latencies.sort()
    assert Tender.objects.filter(project_id=project_id, status="FROZEN").count() == PROBE_BIDS
    return {
        "bids": bids,
        "p50_ms": round(percentile(latencies, 50) * 1000, 2),
        "mean_ms": round(sum(latencies) / bids * 1000, 2),
        "platform_statements_per_bid": round(counter.statements / bids, 1),
        "platform_ms_in_statements_per_bid": round(counter.seconds / bids * 1000, 2),
    }


# -- checks --------------------------------------------------------------------------------------


def pending_settle(wait_s: float = 15.0) -> dict[str, Any]:
    """Wait for requests still pending; then run the recovery job on whatever is left."""
    from wanxin.depository import services as depository
    from wanxin.depository.models import DepositoryRequest

    pending = DepositoryRequest.objects.filter(status=DepositoryRequest.Status.PENDING)
    first = pending.count()
    deadline = time.monotonic() + wait_s
    while pending.exists() and time.monotonic() < deadline:
        time.sleep(0.5)
    recovered = depository.pending_recover(older_than=dt.timedelta(0)) if pending.exists() else {}
    return {"pending_after_burst": first, "recovery": recovered, "pending_at_end": pending.count()}


def check(project_id: int, probe_project_id: int, accepted_fen: int, accepted_count: int) -> dict[str, Any]:
    from django.db.models import Count, Sum

    from wanxin.bank.models import Account, Freeze
    from wanxin.bank.models import Project as BankProject
    from wanxin.funds.models import DepositoryAccount
    from wanxin.lending.models import Project, Tender

    project = Project.objects.get(pk=project_id)
    tenders = {row["status"]: {"count": row["n"], "fen": row["s"]}
               for row in Tender.objects.filter(project=project).values("status").annotate(n=Count("pk"), s=Sum("amount"))}
    frozen_tenders = tenders.get("FROZEN", {"count": 0, "fen": 0})
    bank_project = BankProject.objects.using("bank").get(project_no=project.project_no)
    freezes = Freeze.objects.using("bank").filter(project_no=project.project_no, biz_type="TENDER")
    bank_frozen = freezes.filter(status="FROZEN").aggregate(s=Sum("remaining"), n=Count("pk"))
    bank_frozen_fen, bank_frozen_count = bank_frozen["s"] or 0, bank_frozen["n"]
    probe_fen = Tender.objects.filter(project_id=probe_project_id, status="FROZEN").aggregate(s=Sum("amount"))["s"] or 0
    investor_accounts = Account.objects.using("bank").filter(account_no__startswith="HOTI")
    mirrors = DepositoryAccount.objects.filter(user_no__startswith="HOTI")
    invariants = ledger.check_invariants()
    result = {
        "amount_fen": project.amount,
        "platform": {"status": project.status, "bank_status": project.bank_status, "raised_fen": project.raised,
                     "frozen_amount_fen": project.frozen_amount, "tenders": tenders},
        "bank": {"project_status": bank_project.status, "frozen_on_project_fen": bank_frozen_fen,
                 "frozen_tenders": bank_frozen_count,
                 "investors_frozen_fen": investor_accounts.aggregate(s=Sum("frozen"))["s"] or 0,
                 "probe_loan_frozen_fen": probe_fen},
        "platform_mirror_frozen_fen": mirrors.aggregate(s=Sum("frozen"))["s"] or 0,
        "oversubscription_platform_fen": max(0, project.raised - project.amount,
                                             project.frozen_amount - project.amount),
        "oversubscription_bank_fen": max(0, bank_frozen_fen - project.amount),
        "invariants": invariants,
    }
    result["consistent"] = (
        project.raised == project.frozen_amount == frozen_tenders["fen"] == bank_frozen_fen == accepted_fen
        and frozen_tenders["count"] == bank_frozen_count == accepted_count
        and set(tenders) <= {"FROZEN"}
        # every investor's frozen balance, at the bank and in the platform's mirror: both loans
        and result["bank"]["investors_frozen_fen"] == bank_frozen_fen + probe_fen == result["platform_mirror_frozen_fen"]
    )
    result["ok"] = (result["consistent"] and invariants["ok"] and result["oversubscription_platform_fen"] == 0
                    and result["oversubscription_bank_fen"] == 0)
    return result


def backend_cpu(databases: list[str]) -> dict[int, tuple[str, float]]:
    """CPU seconds so far of each PostgreSQL backend connected to one of ``databases``
    (the process title names the database), by pid."""
    tick = os.sysconf("SC_CLK_TCK")
    found = {}
    for proc in Path("/proc").glob("[0-9]*"):
        try:
            title = (proc / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
            if not title.startswith("postgres: "):
                continue
            words = title.split()
            db = next((d for d in databases if d in words), None)
            if db is None:
                continue
            fields = (proc / "stat").read_text().rsplit(")", 1)[1].split()
            found[int(proc.name)] = (db, (int(fields[11]) + int(fields[12])) / tick)
        except (OSError, IndexError, ValueError):
            continue
    return found


def backend_cpu_used(before: dict[int, tuple[str, float]], after: dict[int, tuple[str, float]]) -> dict[str, float]:
    used: dict[str, float] = {}
    for pid, (db, cpu) in after.items():
        used[db] = used.get(db, 0.0) + cpu - (before.get(pid, (db, 0.0))[1])
    return used


# -- profiling (optional: py-spy on every gunicorn worker during the burst) -------------------------


def worker_pids(master: int) -> list[int]:
    pids = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            if int(stat.read_text().rsplit(")", 1)[1].split()[1]) == master:
                pids.append(int(stat.parent.name))
        except (OSError, IndexError, ValueError):
            continue
    return pids


def profilers_start(servers: dict[str, int], out_dir: Path, mode: str) -> list[tuple[str, subprocess.Popen, Path]]:
    """``py-spy record`` (raw collapsed stacks) per worker: ``cpu`` samples only the thread
    holding the GIL (Python's CPU), ``wall`` every thread not idle (waits on PostgreSQL and
    the bank included)."""
    spy = shutil.which("py-spy") or str(Path(sys.executable).parent / "py-spy")
    running = []
    for name, master in servers.items():
        for pid in worker_pids(master):
            path = out_dir / f"{name}-{pid}.txt"
            proc = subprocess.Popen([spy, "record", "--pid", str(pid), "--rate", "250", "--format", "raw",
                                     "--output", str(path), "--nonblocking", *(["--gil"] if mode == "cpu" else [])],
                                    stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
            running.append((name, proc, path))
    time.sleep(1.0)  # attached before the release
    return running


def profilers_stop(running: list[tuple[str, subprocess.Popen, Path]], top: int = 30) -> str:
    """Stop the recorders and sum the samples per server: wanxin's frames holding the most
    samples (inclusive: each frame counted once per stack, so callers include callees),
    waits on PostgreSQL (psycopg ``Connection.wait``), and the frames sampled most (self)."""
    for _, proc, _ in running:
        proc.send_signal(signal.SIGINT)
    inclusive: dict[str, Counter] = {}
    own: dict[str, Counter] = {}
    totals: Counter = Counter()
    for name, proc, path in running:
        proc.wait(30)
        if not path.exists():
            continue
        counter, leaves = inclusive.setdefault(name, Counter()), own.setdefault(name, Counter())
        for line in path.read_text().splitlines():
            stack, _, count = line.rpartition(" ")
            if not count.isdigit():
                continue
            frames = [re.sub(r" \(/.*/site-packages/", " (", f.replace(str(ROOT) + "/", "")) for f in stack.split(";")]
            totals[name] += int(count)
            leaves[frames[-1]] += int(count)
            for frame in set(frames):
                if frame.split(" (", 1)[-1].startswith("wanxin/") or "Connection.wait" in frame:
                    counter[frame] += int(count)
    lines = []
    for name, counter in inclusive.items():
        total = max(totals[name], 1)
        lines.append(f"== {name}: {totals[name]} samples; wanxin frames and PostgreSQL waits, inclusive ==")
        lines += [f"{count / total:6.1%}  {frame}" for frame, count in counter.most_common(top)]
        lines.append(f"-- {name}: most sampled frames (self) --")
        lines += [f"{count / total:6.1%}  {frame}" for frame, count in own[name].most_common(15)]
        lines.append("")
    return "\n".join(lines)


# -- the run ------------------------------------------------------------------------------------


def warm_up(platform_port: int, bank_port: int, project_id: int, tokens: list[str]) -> None:
    """Load every worker's code paths, database pools and bank client before the burst
    (no money moves: quotes and balance queries)."""
    from concurrent.futures import ThreadPoolExecutor

    import httpx

    caller = ledger.Caller(97, "warm", f"http://127.0.0.1:{bank_port}")

    def platform_get(token: str) -> None:
        # The bid's checks (quote), and a call from the platform to the bank (QUERY_BALANCE).
        with httpx.Client(base_url=f"http://127.0.0.1:{platform_port}", timeout=30,
                          headers={"Authorization": f"Bearer {token}"}) as http:
            http.get(f"/api/v1/loans/projects/{project_id}/quote", params={"amount": INCREMENT}).raise_for_status()
            http.get("/api/v1/funds/balance").raise_for_status()

    try:
        with ThreadPoolExecutor(16) as pool:
            list(pool.map(platform_get, (tokens * 64)[:64]))
        for i in range(32):
            assert caller.call("QUERY_BALANCE", userNo=investor_no(i % len(tokens)))["respCode"] == ledger.OK
    finally:
        caller.close()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.hot_loan", description=__doc__.split("\n\n")[0])
    parser.add_argument("--investors", type=int, default=1000)
    parser.add_argument("--pgbench-seconds", type=int, default=20)
    parser.add_argument("--workers", type=int, default=2, help="gunicorn workers of each server")
    parser.add_argument("--threads", type=int, default=8, help="gunicorn threads per worker")
    parser.add_argument("--oversubscribe", type=float, default=1.3, help="bids' total ÷ the loan's amount")
    parser.add_argument("--seed", type=int, default=20260101)
    parser.add_argument("--timeout", type=float, default=300, help="seconds a bid may take")
    parser.add_argument("--output", type=Path, default=RESULTS / "hot_loan.json")
    parser.add_argument("--profile", nargs="?", const="cpu", choices=["cpu", "wall"],
                        help="record every gunicorn worker with py-spy during the burst, the thread "
                             "holding the GIL (cpu, default) or every busy thread (wall); costs CPU, so "
                             "the figures are lower; summary in hot_loan_profile.txt beside the JSON")
    args = parser.parse_args(argv)

    started = time.monotonic()
    sys.path.insert(0, str(ROOT))
    platform_port = free_port()
    bank_port = free_port()
    while bank_port == platform_port:
        bank_port = free_port()
    server_env = configure_environment(platform_port, bank_port)
    print(f"Wanxin hot loan: {args.investors} investors bid at once; platform :{platform_port}, "
          f"bank :{bank_port} (gunicorn gthread {args.workers}×{args.threads} each)", flush=True)
    machine = machine_facts()
    server = server_facts()

    print("pgbench TPC-B…", flush=True)
    pgbench = pgbench_reference(PGBENCH_DB, seconds=args.pgbench_seconds)
    print(f"  pgbench: {pgbench['tps']:.1f} tps", flush=True)

    print("Databases, migrations and seed…", flush=True)
    recreate_databases([PLATFORM_DB, BANK_DB])
    import django

    django.setup()
    from django.db import connections

    bank_server = platform_server = None
    try:
        bank_server = start_gunicorn(bank_port, "wanxin.settings", threads=args.threads, workers=args.workers,
                                     env=server_env["bank"])
        seeded = seed(args.investors, random.Random(args.seed), args.oversubscribe)
        bids, tokens = seeded.pop("bids"), seeded.pop("tokens")
        print(f"  {args.investors} investors, loan {seeded['project_no']} of {seeded['amount_fen'] / 100:,.0f} yuan, "
              f"bids {seeded['bids_total_fen'] / 100:,.0f} yuan (×{seeded['oversubscription_offered']}); "
              f"seeded in {sum(seeded['seconds'].values()):.0f} s {seeded['seconds']}", flush=True)
        platform_server = start_gunicorn(platform_port, "wanxin.settings", threads=args.threads,
                                         workers=args.workers, env=server_env["platform"])
        warm_up(platform_port, bank_port, seeded["project_id"], tokens)
        print(f"Probe: {PROBE_BIDS} bids one at a time on a second loan…", flush=True)
        one_by_one = probe(seeded["probe_project_id"], tokens)
        print(f"  {one_by_one}", flush=True)
        connections.close_all()

        print(f"Burst: {len(bids)} bids at once…", flush=True)
        stop = threading.Event()
        states: dict[str, dict[str, float]] = {}

        def sample(name: str, db: str) -> None:
            states[name] = sample_backends(db, until=time.time() + args.timeout + 60, stop=stop)

        samplers = [threading.Thread(target=sample, args=(name, db), daemon=True)
                    for name, db in (("platform", PLATFORM_DB), ("bank", BANK_DB))]
        load_before = list(os.getloadavg())
        cpu0 = {"machine": cpu_busy_seconds(), "platform": tree_cpu_seconds(platform_server.pid),
                "bank": tree_cpu_seconds(bank_server.pid)}
        usage0 = resource.getrusage(resource.RUSAGE_SELF)
        backends0 = backend_cpu([PLATFORM_DB, BANK_DB])
        spies = profilers_start({"platform": platform_server.pid, "bank": bank_server.pid},
                                Path(tempfile.mkdtemp(prefix="hot_loan_spy")), args.profile) if args.profile else []
        for t in samplers:
            t.start()
        burst = asyncio.run(_burst(platform_port, f"/api/v1/loans/projects/{seeded['project_id']}/tenders",
                                   list(zip(tokens, bids, strict=True)), args.timeout))
        usage1 = resource.getrusage(resource.RUSAGE_SELF)
        pg_used = backend_cpu_used(backends0, backend_cpu([PLATFORM_DB, BANK_DB]))
        cpu = {"machine": cpu_busy_seconds() - cpu0["machine"],
               "platform": tree_cpu_seconds(platform_server.pid) - cpu0["platform"],
               "bank": tree_cpu_seconds(bank_server.pid) - cpu0["bank"],
               "client": (usage1.ru_utime - usage0.ru_utime) + (usage1.ru_stime - usage0.ru_stime),
               "postgresql_platform": pg_used.get(PLATFORM_DB, 0.0), "postgresql_bank": pg_used.get(BANK_DB, 0.0)}
        stop.set()
        for t in samplers:
            t.join()
        profile_text = profilers_stop(spies) if spies else None
        settled = pending_settle()
    finally:
        for proc in (platform_server, bank_server):
            if proc is not None:
                stop_server(proc)

    results = burst["results"]
    wall = burst["wall_s"]
    accepted = [r for r in results if r["status"] == 201]
    refused = Counter(f"{r['status']} {r['code']}" for r in results if r["status"] != 201)
    latencies = sorted(r["seconds"] for r in results)
    accepted_lat = sorted(r["seconds"] for r in accepted)
    n = len(results)
    # The rest: PostgreSQL's shared processes (WAL writer…), the kernel's share not charged
    # to a process, and whatever else runs on the machine.
    cpu["rest"] = cpu["machine"] - sum(v for k, v in cpu.items() if k != "machine")
    figures = {
        "bids": n,
        "wall_s": round(wall, 3),
        "bids_per_s": round(n / wall, 1),
        "accepted": len(accepted),
        "accepted_fen": sum(r["amount"] for r in accepted),
        "accepted_per_s": round(len(accepted) / wall, 1),
        "full_after_s": round(max(accepted_lat), 3) if accepted_lat else None,
        "refused": dict(refused.most_common()),
        "accepted_not_frozen": sum(1 for r in accepted if r["tender_status"] != "FROZEN"),
        "p50_ms": round(percentile(latencies, 50) * 1000, 1),
        "p90_ms": round(percentile(latencies, 90) * 1000, 1),
        "p99_ms": round(percentile(latencies, 99) * 1000, 1),
        "max_ms": round(latencies[-1] * 1000, 1),
        "accepted_p50_ms": round(percentile(accepted_lat, 50) * 1000, 1),
        "accepted_p99_ms": round(percentile(accepted_lat, 99) * 1000, 1),
        "cpu_ms_per_bid": {k: round(v / n * 1000, 2) for k, v in cpu.items()},
        "machine_cpu_busy_share": round(cpu["machine"] / wall / (os.cpu_count() or 1), 3),
        "backend_states": states,
        "loadavg_before": load_before,
        "loadavg_after": list(os.getloadavg()),
    }
    ratio = figures["bids_per_s"] / pgbench["tps"]
    print("Checking…", flush=True)
    checks = check(seeded["project_id"], seeded["probe_project_id"], figures["accepted_fen"], len(accepted))
    checks["pending"] = settled
    checks["ok"] = checks["ok"] and settled["pending_at_end"] == 0 and figures["accepted_not_frozen"] == 0
    connections.close_all()
    drop_database(PGBENCH_DB)

    header = f"{'figure':<44} {'value':>12}"
    print()
    print(header)
    print("-" * len(header))
    rows = [
        ("pgbench TPC-B tps (-s 8, -c 8 -j 2)", f"{pgbench['tps']:.1f}"),
        ("bids (all at once)", f"{n}"),
        ("wall: release → last answer (s)", f"{wall:.2f}"),
        ("bids/s (all answered)", f"{figures['bids_per_s']:.1f}"),
        ("accepted bids / refused", f"{len(accepted)} / {n - len(accepted)}"),
        ("accepted bids/s", f"{figures['accepted_per_s']:.1f}"),
        ("loan full after (s)", f"{figures['full_after_s']}"),
        ("latency p50 / p99 (ms)", f"{figures['p50_ms']:.0f} / {figures['p99_ms']:.0f}"),
        ("over-subscription platform / bank (fen)",
         f"{checks['oversubscription_platform_fen']} / {checks['oversubscription_bank_fen']}"),
        ("CPU ms/bid: platform / bank", f"{figures['cpu_ms_per_bid']['platform']:.1f} / "
                                        f"{figures['cpu_ms_per_bid']['bank']:.1f}"),
        ("CPU ms/bid: PostgreSQL platform / bank", f"{figures['cpu_ms_per_bid']['postgresql_platform']:.1f} / "
                                                   f"{figures['cpu_ms_per_bid']['postgresql_bank']:.1f}"),
        ("CPU ms/bid: client / rest of machine", f"{figures['cpu_ms_per_bid']['client']:.1f} / "
                                                 f"{figures['cpu_ms_per_bid']['rest']:.1f}"),
        ("CPU ms/bid: machine", f"{figures['cpu_ms_per_bid']['machine']:.1f}"),
        (f"bids/s ÷ pgbench tps (target ≥ {TARGET_RATIO})", f"{ratio:.3f}"),
    ]
    for label, value in rows:
        print(f"{label:<44} {value:>12}")
    print(f"refused: {figures['refused']}")
    print(f"platform: {checks['platform']}")
    print(f"bank: {checks['bank']}; mirrors frozen {checks['platform_mirror_frozen_fen']}")
    inv = checks["invariants"]
    print(f"pending: {settled}; total_balance() == {inv['total_balance']}; "
          f"replay_mismatches() == {inv['replay_mismatches']}  → {'OK' if checks['ok'] else 'VIOLATED'}")
    for name, share in states.items():
        print(f"{name} backends: {share}")

    result = {
        **result_head("hot_loan", started=started, args=args, machine=machine),
        "postgresql": server,
        "pgbench": pgbench,
        "servers": {"platform": f"gunicorn gthread {args.workers}×{args.threads}, WANXIN_ROLE=platform",
                    "bank": f"gunicorn gthread {args.workers}×{args.threads}, WANXIN_ROLE=bank",
                    "cache": REDIS_URL},
        "seed": seeded,
        "figures": figures,
        "one_bid_at_a_time": one_by_one,
        "ratio_to_pgbench": round(ratio, 4),
        "target": f"bids/s >= {TARGET_RATIO} x pgbench TPC-B tps",
        "target_met": ratio >= TARGET_RATIO,
        "checks": checks,
    }
    args.output.parent.mkdir(parents=True, exist_ok=True)
    args.output.write_text(json.dumps(result, indent=2, ensure_ascii=False, default=str) + "\n")
    if profile_text:
        (args.output.parent / "hot_loan_profile.txt").write_text(profile_text)
        print(profile_text)
    print(f"Wrote {args.output.relative_to(ROOT) if args.output.is_relative_to(ROOT) else args.output} "
          f"in {result['runtime_s']:.0f} s total.")
    return 0 if checks["ok"] else 1


if __name__ == "__main__":
    sys.exit(main())
