"""Fund records (资金动态) API latency for a customer with 100,000 records.

    python -m benchmarks.fund_records [--records 100000] [--other-rows 200000] [--iterations 200]

On the PostgreSQL at 127.0.0.1:5432 (user postgres, trust auth) it drops and recreates the
databases wanxin_bench_funds and wanxin_bench_funds_bank, migrates them, and seeds one
customer with ``--records`` fund records spread over the last two years (recharges,
withdrawals with their commissions, freezes, unfreezes, tenders, repayments received …),
plus ``--other-rows`` records of other customers so the indexes hold realistic neighbours.

Then it serves the platform with gunicorn and measures, one request at a time over HTTP
(httpx, bearer token), p50/p95/p99 of:
  - the first page of GET /api/v1/funds/records (20 newest);
  - a filtered deep page: one type within one year, from a cursor thousands of rows deep;
  - an unfiltered deep page near the end of the customer's history;
  - the CSV export of one year (GET /api/v1/funds/records.csv, ~50,000 rows, streamed);
  - the statistics of one year (totals by type and months).
It repeats the page cases with 8 concurrent clients, reports the SQL of each page with its
plan and time (and what OFFSET pagination would cost at the same depth), and runs pgbench's
select-only test in the same run as the machine's reference latency. Results go to
``benchmarks/results/fund_records.json``. Target: p95 under 100 ms for a page.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import random
import re
import statistics
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any

from benchmarks.common import (
    PG_HOST,
    PG_PORT,
    RESULTS,
    ROOT,
    configure_environment,
    drop_database,
    free_port,
    interpolated_percentile,
    machine_facts,
    pgbench_binary,
    pgbench_connection,
    recreate_databases,
    result_head,
    server_facts,
    start_gunicorn,
    stop_server,
)

PLATFORM_DB, BANK_DB = "wanxin_bench_funds", "wanxin_bench_funds_bank"
PGBENCH_DB = "wanxin_bench_funds_pgbench"
TARGET_P95_MS = 100.0


# -- environment and databases ------------------------------------------------------------


def machine_and_server_facts() -> dict[str, Any]:
    facts = machine_facts()
    server = server_facts()
    facts["postgresql"], facts["postgresql_settings"] = server["version"], server["settings"]
    return facts


def pgbench_reference(seconds: int) -> dict[str, Any]:
    """pgbench's select-only transaction (one indexed SELECT), one client: the machine's
    floor for one round trip to PostgreSQL, and 8 clients for the concurrent phase."""
    binary, conn = pgbench_binary(), pgbench_connection()
    recreate_databases([PGBENCH_DB])
    try:
        subprocess.run([binary, "-i", "-q", "-s", "8", *conn, PGBENCH_DB], check=True, capture_output=True)
        out: dict[str, Any] = {}
        for clients in (1, 8):
            done = subprocess.run([binary, "-S", "-c", str(clients), "-j", str(min(clients, 4)), "-T", str(seconds),
                                   *conn, PGBENCH_DB], check=True, capture_output=True, text=True)
            tps = re.search(r"tps = ([\d.]+) \(without initial connection time\)", done.stdout)
            latency = re.search(r"latency average = ([\d.]+) ms", done.stdout)
            out[f"select_only_c{clients}"] = {
                "command": f"pgbench -S -c {clients} -T {seconds} (scale 8)",
                "tps": float(tps.group(1)) if tps else None,
                "latency_avg_ms": float(latency.group(1)) if latency else None,
            }
        return out
    finally:
        drop_database(PGBENCH_DB)


# -- seed -----------------------------------------------------------------------------------

# (type, share of events, amount range in fen, sign); withdrawals bring their commission.
MIX = [
    ("RECHARGE", 0.16, (10_000, 5_000_000), 1),
    ("WITHDRAW", 0.08, (10_000, 2_000_000), -1),
    ("FREEZE", 0.18, (5_000, 1_000_000), -1),
    ("UNFREEZE", 0.04, (5_000, 1_000_000), 1),
    ("TENDER", 0.14, (5_000, 1_000_000), -1),
    ("RECEIVABLE", 0.24, (100, 200_000), 1),
    ("ALLOCATION_FEE", 0.04, (100, 50_000), -1),
    ("REPAYMENT", 0.04, (1_000, 300_000), -1),
]


def generate(user_id: int, count: int, *, days: int, prefix: str, seed: int) -> list[tuple]:
    """``count`` records for one customer over the last ``days`` days, with a running balance."""
    rng = random.Random(seed)
    now = dt.datetime.now(dt.UTC)
    start = now - dt.timedelta(days=days)
    span = (now - start).total_seconds()
    times = sorted(start + dt.timedelta(seconds=rng.random() * span) for _ in range(count))
    kinds = [m[0] for m in MIX]
    weights = [m[1] for m in MIX]
    spec = {m[0]: m for m in MIX}
    rows: list[tuple] = []
    available, frozen = 0, 0
    index = 0
    while len(rows) < count:
        kind = rng.choices(kinds, weights)[0]
        low, high, sign = spec[kind][2][0], spec[kind][2][1], spec[kind][3]
        amount = rng.randint(low, high)
        at = times[len(rows)]
        request_no = f"{prefix}{index:08d}"
        index += 1
        if kind == "WITHDRAW" and len(rows) + 2 <= count:
            commission = max(200, amount // 1000)
            available -= amount
            rows.append((user_id, "WITHDRAW", -(amount - commission), available + commission, frozen, request_no, at))
            rows.append((user_id, "COMMISSION", -commission, available, frozen, request_no, at))
            continue
        if kind == "WITHDRAW":
            kind, sign = "RECHARGE", 1
        if kind == "FREEZE":
            available, frozen = available - amount, frozen + amount
        elif kind == "UNFREEZE":
            available, frozen = available + amount, frozen - amount
        elif kind == "TENDER":
            frozen -= amount
        else:
            available += sign * amount
        rows.append((user_id, kind, sign * amount, available, frozen, request_no, at))
    return rows


def copy_records(rows: list[tuple]) -> None:
    from django.db import connection

    with connection.cursor() as cursor:
        raw = cursor.cursor  # psycopg 3 cursor: COPY is the fastest bulk load
        with raw.copy("COPY funds_fundrecord (user_id, type, amount, available_after, frozen_after, request_no, "
                      "created_at, remark) FROM STDIN") as copy:
            for row in rows:
                copy.write_row((*row, ""))


def migrate_and_seed(records: int, other_rows: int, days: int) -> dict[str, Any]:
    from django.contrib.auth import get_user_model
    from django.core.management import call_command
    from django.db import connection

    from wanxin.accounts.auth import token_issue
    from wanxin.fields import blind_index
    from wanxin.funds.models import DepositoryAccount

    call_command("migrate", database="default", interactive=False, verbosity=0)
    call_command("migrate", database="bank", interactive=False, verbosity=0)
    call_command("createcachetable", database="default", verbosity=0)
    User = get_user_model()
    started = time.monotonic()
    users = []
    others = max(1, other_rows // 50_000) if other_rows else 0
    for n in range(1 + others):
        user = User.objects.create_user(username=f"bench{n}", password=None, mobile=f"1390000{n:04d}",
                                        role="BOTH", user_no=f"BENCH{n:04d}")
        id_number = f"11010119900101{n:03d}X"
        DepositoryAccount.objects.create(
            user=user, user_no=user.user_no, status="OPEN", full_name="Bench Customer", id_number=id_number,
            id_number_index=blind_index(id_number), card_number="6217000000000000004", bank_code="ICBC",
            mobile=user.mobile, role="BOTH")
        users.append(user)
    copy_records(generate(users[0].pk, records, days=days, prefix="B0-", seed=1))
    for n, user in enumerate(users[1:], start=1):
        copy_records(generate(user.pk, other_rows // others, days=days, prefix=f"B{n}-", seed=n + 1))
    with connection.cursor() as cursor:
        cursor.execute("VACUUM ANALYZE funds_fundrecord")
        cursor.execute("SELECT count(*), pg_size_pretty(pg_total_relation_size('funds_fundrecord')) "
                       "FROM funds_fundrecord")
        total, size = cursor.fetchone()
    return {
        "customer_records": records,
        "other_customers": others,
        "other_records": other_rows // others * others if others else 0,
        "table_rows": total,
        "table_size_with_indexes": size,
        "days": days,
        "seconds": round(time.monotonic() - started, 1),
        "token": token_issue(user=users[0], name="benchmark"),
        "user_id": users[0].pk,
    }


# -- the cases --------------------------------------------------------------------------------


def cases(user_id: int) -> dict[str, Any]:
    """Query strings of every case, with deep cursors taken from the data."""
    from django.contrib.auth import get_user_model

    from wanxin.funds import selectors
    from wanxin.funds.models import FundRecord

    user = get_user_model().objects.get(pk=user_id)
    today = dt.date.today()
    year_from, year_to = (today - dt.timedelta(days=364)).isoformat(), today.isoformat()

    def cursors(qs, depths: list[int]) -> list[str]:
        ordered = qs.order_by("-created_at", "-id").values_list("created_at", "id")
        return [selectors.encode_cursor(*ordered[d]) for d in depths]

    mine = FundRecord.objects.filter(user=user)
    filtered = selectors._filtered(user, selectors.record_filter(types=["RECEIVABLE"], date_from=year_from,
                                                                  date_to=year_to))
    n_filtered = filtered.count()
    n_all = mine.count()
    filtered_depths = [int(n_filtered * f) for f in (0.5, 0.7, 0.9, 0.98)]
    deep_depths = [int(n_all * f) for f in (0.8, 0.9, 0.95, 0.999)]
    return {
        "first_page": {"label": "first page (20 newest)", "params": [{"limit": 20}]},
        "filtered_deep_page": {
            "label": f"type=RECEIVABLE, one year, deep cursor (rows {filtered_depths[0]:,}–{filtered_depths[-1]:,} "
                     f"of {n_filtered:,})",
            "params": [{"limit": 20, "type": "RECEIVABLE", "date_from": year_from, "date_to": year_to, "after": c}
                       for c in cursors(filtered, filtered_depths)],
            "depths": filtered_depths, "matching_rows": n_filtered,
        },
        "unfiltered_deep_page": {
            "label": f"no filter, deep cursor (rows {deep_depths[0]:,}–{deep_depths[-1]:,} of {n_all:,})",
            "params": [{"limit": 20, "after": c} for c in cursors(mine, deep_depths)],
            "depths": deep_depths,
        },
        "statistics_year": {"label": "statistics of one year", "path": "/api/v1/funds/statistics",
                            "params": [{"date_from": year_from, "date_to": year_to}]},
        "csv_year": {"label": "CSV export of one year", "path": "/api/v1/funds/records.csv",
                     "params": [{"date_from": year_from, "date_to": year_to}],
                     "rows": mine.filter(created_at__date__gte=year_from).count()},
    }


def sql_plans(user_id: int, case_map: dict[str, Any]) -> dict[str, Any]:
    """The SQL the page cases run, with their plans and execution times, beside the
    OFFSET query a page number at the same depth would need."""
    from django.contrib.auth import get_user_model
    from django.db import connection

    from wanxin.funds import selectors

    user = get_user_model().objects.get(pk=user_id)
    out: dict[str, Any] = {}

    def explain(sql: str, params) -> dict[str, Any]:
        with connection.cursor() as cursor:
            cursor.execute("EXPLAIN (ANALYZE, BUFFERS) " + sql, params)
            lines = [r[0] for r in cursor.fetchall()]
        exec_ms = next((float(m.group(1)) for line in lines if (m := re.search(r"Execution Time: ([\d.]+)", line))), None)
        return {"execution_ms": exec_ms, "plan": lines}

    for name in ("first_page", "filtered_deep_page", "unfiltered_deep_page"):
        q = case_map[name]["params"][-1]
        filters = selectors.record_filter(types=[q["type"]] if "type" in q else None, date_from=q.get("date_from"),
                                          date_to=q.get("date_to"))
        qs = selectors._filtered(user, filters)
        if "after" in q:
            at, pk = selectors.decode_cursor(q["after"])
            qs = qs.filter(created_at__lte=at).exclude(created_at=at, id__gte=pk)
        sql, params = qs.order_by("-created_at", "-id")[:21].query.sql_with_params()
        out[name] = {"sql": sql % tuple(repr(str(p)) for p in params), **explain(sql, params)}
        if "depths" in case_map[name]:
            offset_qs = selectors._filtered(user, filters).order_by("-created_at", "-id")[
                case_map[name]["depths"][-1]: case_map[name]["depths"][-1] + 21]
            sql, params = offset_qs.query.sql_with_params()
            offset = explain(sql, params)
            out[name]["offset_equivalent_ms"] = offset["execution_ms"]
    return out


# -- HTTP ------------------------------------------------------------------------------------------


def summary(latencies: list[float]) -> dict[str, Any]:
    ms = [x * 1000 for x in latencies]
    return {"n": len(ms), "p50_ms": round(interpolated_percentile(ms, 50), 2), "p95_ms": round(interpolated_percentile(ms, 95), 2),
            "p99_ms": round(interpolated_percentile(ms, 99), 2), "max_ms": round(max(ms), 2) if ms else 0,
            "mean_ms": round(statistics.fmean(ms), 2) if ms else 0}


def run_case(base_url: str, token: str, case: dict[str, Any], *, iterations: int, warmup: int,
             clients: int = 1) -> dict[str, Any]:
    import httpx

    path = case.get("path", "/api/v1/funds/records")
    params_list = case["params"]
    latencies: list[float] = []
    sizes: list[int] = []
    errors: list[str] = []
    lock = threading.Lock()
    per_client = max(1, iterations // clients)

    def client_loop(cid: int) -> None:
        with httpx.Client(base_url=base_url, headers={"Authorization": f"Bearer {token}"}, timeout=60) as http:
            for i in range(warmup + per_client):
                params = params_list[(cid + i) % len(params_list)]
                t0 = time.perf_counter()
                size = 0
                with http.stream("GET", path, params=params) as response:
                    for chunk in response.iter_bytes():
                        size += len(chunk)
                    status = response.status_code
                elapsed = time.perf_counter() - t0
                if i < warmup:
                    continue
                with lock:
                    if status != 200:
                        errors.append(f"HTTP {status}")
                    latencies.append(elapsed)
                    sizes.append(size)

    threads = [threading.Thread(target=client_loop, args=(c,)) for c in range(clients)]
    wall = time.perf_counter()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    wall = time.perf_counter() - wall
    return {**summary(latencies), "clients": clients, "requests_per_s": round(len(latencies) / wall, 1),
            "bytes_per_response": int(statistics.fmean(sizes)) if sizes else 0, "errors": len(errors),
            "error_samples": errors[:3]}


def check_responses(base_url: str, token: str, case_map: dict[str, Any]) -> dict[str, Any]:
    """Every case answers what it should (so the figures measure real work)."""
    import httpx

    with httpx.Client(base_url=base_url, headers={"Authorization": f"Bearer {token}"}, timeout=60) as http:
        first = http.get("/api/v1/funds/records", params={"limit": 20}).json()
        deep = http.get("/api/v1/funds/records", params=case_map["filtered_deep_page"]["params"][0]).json()
        csv_lines = http.get("/api/v1/funds/records.csv", params=case_map["csv_year"]["params"][0]).text.count("\n")
    assert len(first["items"]) == 20 and first["next_cursor"], first
    assert len(deep["items"]) == 20 and all(i["type"] == "RECEIVABLE" for i in deep["items"]), deep
    assert csv_lines == case_map["csv_year"]["rows"] + 1, (csv_lines, case_map["csv_year"]["rows"])
    return {"first_page_items": len(first["items"]), "deep_page_items": len(deep["items"]), "csv_lines": csv_lines}


# -- main --------------------------------------------------------------------------------------


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.fund_records", description=__doc__.split("\n\n")[0])
    parser.add_argument("--records", type=int, default=100_000, help="records of the measured customer")
    parser.add_argument("--other-rows", type=int, default=200_000, help="records of other customers")
    parser.add_argument("--days", type=int, default=730)
    parser.add_argument("--iterations", type=int, default=200, help="requests per page case")
    parser.add_argument("--csv-iterations", type=int, default=20)
    parser.add_argument("--concurrency", type=int, default=8, help="clients of the concurrent phase (0: skip)")
    parser.add_argument("--pgbench-seconds", type=int, default=10, help="0: skip the pgbench reference")
    parser.add_argument("--skip-pooled", action="store_true",
                        help="skip the variant with pooled database connections (benchmarks/settings_pooled.py)")
    parser.add_argument("--output", type=Path, default=RESULTS / "fund_records.json")
    args = parser.parse_args(argv)

    started = time.monotonic()
    sys.path.insert(0, str(ROOT))
    configure_environment(PLATFORM_DB, BANK_DB)
    print(f"Wanxin fund-records benchmark: {args.records:,} records (+{args.other_rows:,} of others), "
          f"PostgreSQL {PG_HOST}:{PG_PORT}", flush=True)
    machine = machine_and_server_facts()
    reference = {}
    if args.pgbench_seconds:
        print("pgbench select-only reference…", flush=True)
        reference = pgbench_reference(args.pgbench_seconds)

    print("Databases, migrations and seed…", flush=True)
    recreate_databases([PLATFORM_DB, BANK_DB])
    import django

    django.setup()
    from django.db import connections

    seed = migrate_and_seed(args.records, args.other_rows, args.days)
    token = seed.pop("token")
    print(f"  {seed['table_rows']:,} rows ({seed['table_size_with_indexes']}) in {seed['seconds']} s", flush=True)
    case_map = cases(seed["user_id"])
    plans = sql_plans(seed["user_id"], case_map)
    connections.close_all()

    variants = [("wanxin.settings", "project settings (new connection per request)")]
    pooled = ROOT / "benchmarks" / "settings_pooled.py"
    if not args.skip_pooled and pooled.exists():
        variants.append(("benchmarks.settings_pooled", "psycopg pool"))
    figures: dict[str, Any] = {}
    checks: dict[str, Any] = {}
    for settings_module, variant in variants:
        port = free_port()
        print(f"HTTP via gunicorn gthread 2×4 ({variant}) on :{port}:", flush=True)
        server = start_gunicorn(port, settings_module, threads=4)
        base = f"http://127.0.0.1:{port}"
        try:
            checks[settings_module] = check_responses(base, token, case_map)
            rows: dict[str, Any] = {}
            for name, case in case_map.items():
                is_csv = name == "csv_year"
                iterations = args.csv_iterations if is_csv else args.iterations
                row = run_case(base, token, case, iterations=iterations, warmup=2 if is_csv else 10)
                row["label"] = case["label"]
                rows[name] = row
                print(f"  {case['label']:<70} p50 {row['p50_ms']:>8.1f} ms  p95 {row['p95_ms']:>8.1f} ms  "
                      f"({row['n']} requests, {row['bytes_per_response']:,} bytes)", flush=True)
                if args.concurrency and not is_csv and name != "statistics_year":
                    crow = run_case(base, token, case, iterations=iterations * 2, warmup=5,
                                    clients=args.concurrency)
                    crow["label"] = f"{case['label']}, {args.concurrency} concurrent clients"
                    rows[f"{name}_concurrent"] = crow
                    print(f"  {'  … ' + str(args.concurrency) + ' concurrent clients':<70} p50 {crow['p50_ms']:>8.1f} ms  "
                          f"p95 {crow['p95_ms']:>8.1f} ms  ({crow['requests_per_s']} req/s)", flush=True)
            figures[settings_module] = {"variant": variant, "cases": rows}
        finally:
            stop_server(server)

    page_cases = ("first_page", "filtered_deep_page", "unfiltered_deep_page")
    main_rows = figures["wanxin.settings"]["cases"]
    target_met = all(main_rows[c]["p95_ms"] < TARGET_P95_MS for c in page_cases)
    print("SQL execution time of each page (EXPLAIN ANALYZE), keyset vs OFFSET at the same depth:")
    for name, plan in plans.items():
        extra = f", OFFSET would take {plan['offset_equivalent_ms']} ms" if "offset_equivalent_ms" in plan else ""
        print(f"  {name:<22} {plan['execution_ms']} ms{extra}")
    print(f"Target p95 < {TARGET_P95_MS:.0f} ms per page: {'met' if target_met else 'NOT met'}")

    result = {
        **result_head("fund_records", started=started, args=args, machine=machine),
        "pgbench_reference": reference,
        "seed": seed,
        "cases": {k: {kk: vv for kk, vv in v.items() if kk != "params"} for k, v in case_map.items()},
        "response_checks": checks,
        "figures": figures,
        "sql": plans,
        "target": f"p95 < {TARGET_P95_MS:.0f} ms for a page",
        "target_met": target_met,
    }
    args.output.parent.mkdir(parents=True, exist_ok=True)
    args.output.write_text(json.dumps(result, indent=2, ensure_ascii=False, default=str) + "\n")
    print(f"Wrote {args.output.relative_to(ROOT) if args.output.is_relative_to(ROOT) else args.output} "
          f"in {result['runtime_s']:.0f} s total.")
    return 0 if target_met else 1


if __name__ == "__main__":
    sys.exit(main())
