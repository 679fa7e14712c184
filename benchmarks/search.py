"""The financing hall's search on 100,000 loans: Chinese and English, one character to
several words.

    python -m benchmarks.search [--loans 100000] [--iterations 200]

On the PostgreSQL at 127.0.0.1:5432 (user postgres, trust auth) it drops and recreates the
databases wanxin_bench_search and wanxin_bench_search_bank, migrates them (pg_trgm and the
GIN trigram indexes of lending migration 0004 included) and seeds ``--loans`` published
loans whose names and descriptions mix Chinese and English words (about 2 % are tea
houses, 茶馆; "renovation" is in about 12 %; a few words appear nowhere).

Then it serves the platform with gunicorn and measures, one request at a time over HTTP,
p50/p95/p99 of ``GET /api/v1/loans/projects?q=…`` (the hall's JSON: the matching count,
capped at 1,000 with a search, and the newest 20) for each query below, and prints the plan of each query's SQL. Results go to
``benchmarks/results/search.json``. Target: p95 under 50 ms for every query.
"""

from __future__ import annotations

import argparse
import importlib
import json
import random
import statistics
import sys
import time
from pathlib import Path
from typing import Any

from benchmarks.common import configure_environment as configure_bench_environment
from benchmarks.common import (
    drop_database,
    free_port,
    machine_facts,
    recreate_databases,
    result_head,
    start_gunicorn,
    stop_server,
)

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "benchmarks" / "results"
PLATFORM_DB, BANK_DB = "wanxin_bench_search", "wanxin_bench_search_bank"
TARGET_P95_MS = 50.0

# (label, q): one and two Chinese characters (below a trigram: no index can narrow them
# by trigrams; they are rare here, so PostgreSQL must look at every loan), longer Chinese,
# English words common and rare, two words, a miss, a single common letter.
QUERIES = [
    ("zh_1_char", "茶"),
    ("zh_2_chars", "茶馆"),
    ("zh_4_chars", "福州茶馆"),
    ("en_word", "tea"),
    ("en_two_words", "tea house"),
    ("en_common", "renovation"),
    ("en_missing", "submarine"),
    ("zh_missing", "潜艇"),
    ("en_1_letter", "a"),  # in every loan
    ("en_2_letters", "zq"),
]

CITIES = ["福州", "杭州", "成都", "西安", "广州", "苏州", "厦门", "昆明", "南京", "武汉", "长沙", "青岛"]
BUSINESSES = [("茶馆", "tea house", 2), ("餐厅", "restaurant", 10), ("面包房", "bakery", 8), ("花店", "flower shop", 8),
              ("书店", "bookshop", 8), ("服装店", "clothing shop", 10), ("农场", "farm", 10), ("货运", "trucking", 10),
              ("民宿", "guest house", 10), ("果园", "orchard", 8), ("药店", "pharmacy", 8), ("修车行", "garage", 8)]
PURPOSES = [("装修", "renovation", 12), ("设备采购", "equipment", 22), ("扩张", "expansion", 20),
            ("周转", "working capital", 26), ("进货", "inventory", 20)]
STATUSES = [("FINISHED", 45), ("REPAYING", 35), ("MISCARRIED", 8), ("COLLECTING", 8), ("FULL", 4)]
FILLER = ["The borrower has run the business for {y} years.", "Monthly turnover about ¥{t},000.",
          "Collateral: none; guarantor: family member.", "经营{y}年，月流水约{t}千元。", "资金用于{p}，按月还款。",
          "Located near the old market.", "位于老街附近。"]


def configure_environment() -> None:
    configure_bench_environment(PLATFORM_DB, BANK_DB)


def pick(rng: random.Random, weighted: list[tuple]) -> tuple:
    return rng.choices(weighted, [w[-1] for w in weighted])[0]


def loan_text(rng: random.Random, amount: int, months: int) -> tuple[str, str]:
    city = rng.choice(CITIES)
    zh_business, en_business, _ = pick(rng, BUSINESSES)
    zh_purpose, en_purpose, _ = pick(rng, PURPOSES)
    yuan = f"¥{amount // 100:,}.00"
    if rng.random() < 0.5:
        name = f"{city}{zh_business}{zh_purpose} · {yuan} · {months} months"
    else:
        name = f"{en_business.title()} {en_purpose} in {city} · {yuan} · {months} months"
    words = [f"{en_purpose.capitalize()} for a {en_business} in {city} ({city}{zh_business})."]
    words += [rng.choice(FILLER).format(y=rng.randint(1, 20), t=rng.randint(10, 900), p=zh_purpose)
              for _ in range(rng.randint(1, 3))]
    return name, " ".join(words)


def migrate_and_seed(loans: int) -> dict[str, Any]:
    from django.contrib.auth import get_user_model
    from django.core.management import call_command
    from django.db import connection
    from django.utils import timezone

    from wanxin.lending import selectors
    from wanxin.lending.models import LoanApplication, Project

    search_migration = importlib.import_module("wanxin.lending.migrations.0004_search_trigram")
    call_command("migrate", database="default", interactive=False, verbosity=0)
    call_command("migrate", database="bank", interactive=False, verbosity=0)
    call_command("createcachetable", database="default", verbosity=0)
    started = time.monotonic()
    rng = random.Random(11)
    product = selectors.product_default()
    User = get_user_model()
    # An open loan (collecting, full) needs a borrower of its own; closed ones share them.
    borrowers = max(1000, loans // 5)
    User.objects.bulk_create([User(username=f"sb{n}", password="!", mobile=f"13{n:09d}", role="BORROWER")
                              for n in range(borrowers)], batch_size=5000)
    borrower_ids = list(User.objects.filter(username__startswith="sb").order_by("id").values_list("id", flat=True))
    statuses = [pick(rng, STATUSES)[0] for _ in range(loans)]
    free = iter(borrower_ids)
    owner = [next(free) if status in ("COLLECTING", "FULL") else rng.choice(borrower_ids) for status in statuses]
    # Load first, index after (as a restore would): the GIN indexes are built once.
    with connection.cursor() as cursor:
        for name in [*search_migration.TRIGRAM_INDEXES, "lending_project_short_grams"]:
            cursor.execute(f"DROP INDEX {name}")
    now = timezone.now()
    for start in range(0, loans, 5000):
        chunk = range(start, min(start + 5000, loans))
        texts, apps = {}, []
        for n in chunk:
            amount = rng.randint(10, 5000) * 100_00
            months = rng.choice([3, 6, 12, 24, 36])
            texts[n] = (amount, months, *loan_text(rng, amount, months))
            apps.append(LoanApplication(borrower_id=owner[n], product=product, amount=amount, months=months,
                                        method="EQUAL_INSTALLMENT", purpose=texts[n][2][:100],
                                        description=texts[n][3]))
        apps = LoanApplication.objects.bulk_create(apps)
        projects = []
        for n, app in zip(chunk, apps, strict=True):
            amount, months, name, description = texts[n]
            status = statuses[n]
            raised = amount if status in ("FULL", "REPAYING", "FINISHED") else rng.randint(0, amount // 100) * 100
            projects.append(Project(
                application=app, borrower_id=owner[n], project_no=f"PB{n:08d}", name=name[:100],
                description=description, amount=amount, months=months, method="EQUAL_INSTALLMENT", status=status,
                borrower_rate="0.120000", investor_rate=f"0.{rng.randint(60, 110):03d}000", service_fee_rate="0.02",
                window_days=7, min_investment=100_00, increment=100_00, per_investor_cap=amount, raised=raised,
                published_at=now - random.Random(n).random() * (now - now.replace(year=now.year - 2)),
            ))
        Project.objects.bulk_create(projects)
    with connection.cursor() as cursor:
        for name, expression in search_migration.TRIGRAM_INDEXES.items():
            cursor.execute(f"CREATE INDEX {name} ON lending_project USING gin ({expression} gin_trgm_ops)")
        cursor.execute("CREATE INDEX lending_project_short_grams ON lending_project USING gin (search_grams)")
        cursor.execute("VACUUM ANALYZE lending_project")
        cursor.execute("SELECT count(*), pg_size_pretty(pg_total_relation_size('lending_project')), "
                       "pg_size_pretty(pg_relation_size('lending_project_name_trgm') "
                       "+ pg_relation_size('lending_project_description_trgm')) FROM lending_project")
        total, size, trigram_size = cursor.fetchone()
    return {"loans": total, "table_size_with_indexes": size, "trigram_indexes_size": trigram_size,
            "seconds": round(time.monotonic() - started, 1)}


def matches(q: str) -> int:
    from wanxin.lending import selectors

    return selectors.hall(selectors.HallFilter(q=q)).count()


def plans() -> dict[str, Any]:
    """EXPLAIN ANALYZE of the page query (newest 20) and the count of each search."""
    from django.db import connection

    from wanxin.lending import selectors

    out = {}
    for label, q in QUERIES:
        rows = selectors.hall(selectors.HallFilter(q=q))
        found = {}
        for part, qs in (("page", rows[:20]), ("count", rows.order_by().values("pk")[:selectors.SEARCH_COUNT_CAP + 1])):
            sql, params = qs.query.sql_with_params()
            if part == "count":
                sql = f"SELECT count(*) FROM ({sql}) AS found"
            with connection.cursor() as cursor:
                cursor.execute(f"EXPLAIN (ANALYZE, BUFFERS, FORMAT TEXT) {sql}", params)
                lines = [r[0] for r in cursor.fetchall()]
            found[part] = {"execution_ms": float(lines[-1].split(":")[1].split()[0]),
                           "uses": sorted({w for line in lines for w in ("lending_project_name_trgm",
                                                                          "lending_project_description_trgm",
                                                                          "lending_project_short_grams", "Seq Scan",
                                                                          "lending_project_published")
                                           if w in line}),
                           "plan": lines}
        out[label] = found
    return out


def in_process(q: str, *, iterations: int) -> dict[str, Any]:
    """The hall's work without HTTP: the capped count, the newest 20 and their JSON fields,
    on one kept connection (what search itself costs, apart from the request path)."""
    from wanxin.lending import selectors
    from wanxin.lending.api import HallOut

    latencies = []
    for _ in range(iterations):
        started = time.perf_counter()
        page = selectors.hall_page(selectors.HallFilter(q=q), 20, 1)
        HallOut.model_validate({"items": list(page), "page": page.number, "pages": page.paginator.num_pages,
                                "count": page.paginator.count, "capped": page.paginator.capped}).model_dump()
        latencies.append(time.perf_counter() - started)
    return summary(latencies)


def percentile(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(p / 100 * len(ordered) + 0.5) - 1))] if ordered else 0.0


def summary(latencies: list[float]) -> dict[str, Any]:
    ms = [v * 1000 for v in latencies]
    return {"n": len(ms), "p50_ms": round(percentile(ms, 50), 2), "p95_ms": round(percentile(ms, 95), 2),
            "p99_ms": round(percentile(ms, 99), 2), "max_ms": round(max(ms), 2),
            "mean_ms": round(statistics.fmean(ms), 2)}


def measure(base_url: str, q: str, *, iterations: int, warmup: int) -> tuple[dict[str, Any], int]:
    import httpx

    with httpx.Client(base_url=base_url, timeout=30) as http:
        count = -1
        for _ in range(warmup):
            body = http.get("/api/v1/loans/projects", params={"q": q}).json()
            count = body["count"]
        latencies = []
        for _ in range(iterations):
            started = time.perf_counter()
            response = http.get("/api/v1/loans/projects", params={"q": q})
            latencies.append(time.perf_counter() - started)
            assert response.status_code == 200, response.text
    return summary(latencies), count


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--loans", type=int, default=100_000)
    parser.add_argument("--iterations", type=int, default=200)
    parser.add_argument("--warmup", type=int, default=10)
    parser.add_argument("--output", type=Path, default=RESULTS / "search.json")
    args = parser.parse_args()
    started = time.monotonic()
    configure_environment()
    sys.path.insert(0, str(ROOT))
    import django

    machine = machine_facts()
    recreate_databases([PLATFORM_DB, BANK_DB])
    server = None
    try:
        django.setup()
        seed = migrate_and_seed(args.loans)
        print(f"seeded {seed['loans']} loans in {seed['seconds']} s", flush=True)
        expected = {label: matches(q) for label, q in QUERIES}
        from wanxin.lending import selectors
        port = free_port()
        server = start_gunicorn(port, "wanxin.settings", workers=1, threads=4)
        results = {}
        for label, q in QUERIES:
            latency, count = measure(f"http://127.0.0.1:{port}", q, iterations=args.iterations, warmup=args.warmup)
            assert count == min(expected[label], selectors.SEARCH_COUNT_CAP), (label, count, expected[label])
            inner = in_process(q, iterations=max(20, args.iterations // 4))
            results[label] = {"q": q, "matches": expected[label], "count_shown": count, **latency,
                              "meets_target": latency["p95_ms"] < TARGET_P95_MS,
                              "in_process": inner}
            print(f"{label:14} q={q!r:14} matches={expected[label]:6}  p50 {latency['p50_ms']:6.1f} ms  "
                  f"p95 {latency['p95_ms']:6.1f} ms  (in process p50 {inner['p50_ms']:5.1f} / p95 {inner['p95_ms']:5.1f} ms)",
                  flush=True)
        sql = plans()
    finally:
        if server is not None:
            stop_server(server)
        from django.db import connections

        connections.close_all()
        drop_database(PLATFORM_DB)
        drop_database(BANK_DB)
    report = {
        **result_head("search", started=started, args=args, machine=machine),
        "target": f"p95 < {TARGET_P95_MS:g} ms per query over HTTP (GET /api/v1/loans/projects?q=…, count + newest 20)",
        "seed": seed,
        "queries": results,
        "all_meet_target": all(r["meets_target"] for r in results.values()),
        "sql": {label: {part: {k: v for k, v in d.items() if k != "plan"} for part, d in parts.items()}
                for label, parts in sql.items()},
        "sql_plans": {label: {part: d["plan"] for part, d in parts.items()} for label, parts in sql.items()},
    }
    args.output.parent.mkdir(parents=True, exist_ok=True)
    args.output.write_text(json.dumps(report, indent=2, ensure_ascii=False) + "\n")
    print(f"all meet the target: {report['all_meet_target']}; written to {args.output}")


if __name__ == "__main__":
    main()
