"""The hot loan run and its command line (see the package docstring)."""


from __future__ import annotations

import argparse
import json
import os
import random
import resource
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter
from pathlib import Path

from benchmarks.common import (
    RESULTS,
    ROOT,
    backend_cpu,
    backend_cpu_used,
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

from .checks import (
    check,
    confirmations,
    pending_settle,
    profilers_start,
    profilers_stop,
)
from .client import burst, probe_alone, probe_statements, warm_up
from .seed import (
    BANK_DB,
    PGBENCH_DB,
    PLATFORM_DB,
    PROBE_BIDS,
    PROBE_STATEMENT_BIDS,
    REDIS_URL,
    TARGET_RATIO,
    configure_environment,
    seed,
)

TARGET_P99_CONFIRMED_MS = 2000
TARGET_ALONE_P50_MS = 15


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.hot_loan",
                                     description="A hot loan: N funded investors bid at once on one loan over HTTP.")
    parser.add_argument("--investors", type=int, default=1000)
    parser.add_argument("--pgbench-seconds", type=int, default=20)
    parser.add_argument("--workers", type=int, default=2, help="gunicorn workers of each server")
    parser.add_argument("--threads", type=int, default=8, help="gunicorn threads per worker")
    parser.add_argument("--senders", type=int, default=2,
                        help="outbox sender threads of the platform's sender process (manage.py outbox_sender)")
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

    bank_server = platform_server = sender = None
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
        # The bids' freezes go through the outbox (decision record 0007): a sender process as in
        # production, woken by the bids' commits.
        sender = subprocess.Popen([sys.executable, "manage.py", "outbox_sender", "--senders", str(args.senders)],
                                  cwd=ROOT, env={**os.environ, **server_env["platform"]})
        warm_up(platform_port, bank_port, seeded["project_id"], tokens)
        print(f"Probe: {PROBE_BIDS} bids one at a time on a second loan…", flush=True)
        one_by_one = {**probe_statements(seeded["probe_project_id"], tokens),
                      "alone_over_http": probe_alone(platform_port, seeded["probe_project_id"],
                                                     tokens[PROBE_STATEMENT_BIDS:])}
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
                "outbox_sender": tree_cpu_seconds(sender.pid), "bank": tree_cpu_seconds(bank_server.pid)}
        usage0 = resource.getrusage(resource.RUSAGE_SELF)
        backends0 = backend_cpu([PLATFORM_DB, BANK_DB])
        spies = profilers_start({"platform": platform_server.pid, "bank": bank_server.pid},
                                Path(tempfile.mkdtemp(prefix="hot_loan_spy")), args.profile) if args.profile else []
        for t in samplers:
            t.start()
        answers = burst(platform_port, seeded["project_id"], list(zip(tokens, bids, strict=True)), args.timeout)
        # Answered at once; the freezes go on in the outbox sender until confirmed.
        confirmed = confirmations(seeded["project_id"], answers["released_at"], args.timeout)
        connections.close_all()
        usage1 = resource.getrusage(resource.RUSAGE_SELF)
        pg_used = backend_cpu_used(backends0, backend_cpu([PLATFORM_DB, BANK_DB]))
        cpu = {"machine": cpu_busy_seconds() - cpu0["machine"],
               "platform": tree_cpu_seconds(platform_server.pid) - cpu0["platform"],
               "outbox_sender": tree_cpu_seconds(sender.pid) - cpu0["outbox_sender"],
               "bank": tree_cpu_seconds(bank_server.pid) - cpu0["bank"],
               "client": (usage1.ru_utime - usage0.ru_utime) + (usage1.ru_stime - usage0.ru_stime),
               "postgresql_platform": pg_used.get(PLATFORM_DB, 0.0), "postgresql_bank": pg_used.get(BANK_DB, 0.0)}
        stop.set()
        for t in samplers:
            t.join()
        profile_text = profilers_stop(spies) if spies else None
        settled = pending_settle()
    finally:
        for proc in (sender, platform_server, bank_server):
            if proc is not None:
                stop_server(proc)

    results = answers["results"]
    wall = answers["wall_s"]
    accepted = [r for r in results if r["status"] == 201]
    refused = Counter(f"{r['status']} {r['code']}" for r in results if r["status"] != 201)
    latencies = sorted(r["seconds"] for r in results)
    accepted_lat = sorted(r["seconds"] for r in accepted)
    n = len(results)
    span = max(wall, confirmed["last_confirmed_s"] or 0.0)
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
        "answered_status": dict(Counter(r["tender_status"] for r in accepted)),
        **confirmed,
        "p50_ms": round(percentile(latencies, 50) * 1000, 1),
        "p90_ms": round(percentile(latencies, 90) * 1000, 1),
        "p99_ms": round(percentile(latencies, 99) * 1000, 1),
        "max_ms": round(latencies[-1] * 1000, 1),
        "accepted_p50_ms": round(percentile(accepted_lat, 50) * 1000, 1),
        "accepted_p99_ms": round(percentile(accepted_lat, 99) * 1000, 1),
        # CPU from the release to the last confirmation (the sends after the answers included).
        "cpu_ms_per_bid": {k: round(v / n * 1000, 2) for k, v in cpu.items()},
        "machine_cpu_busy_share": round(cpu["machine"] / span / (os.cpu_count() or 1), 3),
        "backend_states": states,
        "loadavg_before": load_before,
        "loadavg_after": list(os.getloadavg()),
    }
    ratio = figures["confirmed_per_s"] / pgbench["tps"]
    targets = {"ratio_to_pgbench": ratio >= TARGET_RATIO,
               "p99_confirmed_ms": (figures["p99_confirmed_ms"] or 1e9) <= TARGET_P99_CONFIRMED_MS,
               "one_bid_alone_p50_ms": one_by_one["alone_over_http"]["p50_ms"] <= TARGET_ALONE_P50_MS}
    print("Checking…", flush=True)
    checks = check(seeded["project_id"], seeded["probe_project_id"], figures["accepted_fen"], len(accepted))
    checks["pending"] = settled
    checks["ok"] = checks["ok"] and settled["pending_at_end"] == 0
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
        ("bids/s answered (all)", f"{figures['bids_per_s']:.1f}"),
        ("bids confirmed at the bank", f"{figures['confirmed']}"),
        ("release → last confirmation (s)", f"{figures['last_confirmed_s']}"),
        ("bids confirmed/s", f"{figures['confirmed_per_s']:.1f}"),
        ("confirmed p50 / p99 (ms)", f"{figures['p50_confirmed_ms']} / {figures['p99_confirmed_ms']}"),
        ("one bid alone, answered p50 (ms)", f"{one_by_one['alone_over_http']['p50_ms']}"),
        ("accepted bids / refused", f"{len(accepted)} / {n - len(accepted)}"),
        ("accepted bids/s", f"{figures['accepted_per_s']:.1f}"),
        ("loan full after (s)", f"{figures['full_after_s']}"),
        ("answered p50 / p99 (ms)", f"{figures['p50_ms']:.0f} / {figures['p99_ms']:.0f}"),
        ("over-subscription platform / bank (fen)",
         f"{checks['oversubscription_platform_fen']} / {checks['oversubscription_bank_fen']}"),
        ("CPU ms/bid: platform web / outbox sender / bank", f"{figures['cpu_ms_per_bid']['platform']:.1f} / "
                                                          f"{figures['cpu_ms_per_bid']['outbox_sender']:.1f} / "
                                                          f"{figures['cpu_ms_per_bid']['bank']:.1f}"),
        ("CPU ms/bid: PostgreSQL platform / bank", f"{figures['cpu_ms_per_bid']['postgresql_platform']:.1f} / "
                                                   f"{figures['cpu_ms_per_bid']['postgresql_bank']:.1f}"),
        ("CPU ms/bid: client / rest of machine", f"{figures['cpu_ms_per_bid']['client']:.1f} / "
                                                 f"{figures['cpu_ms_per_bid']['rest']:.1f}"),
        ("CPU ms/bid: machine", f"{figures['cpu_ms_per_bid']['machine']:.1f}"),
        (f"confirmed/s ÷ pgbench tps (target ≥ {TARGET_RATIO})", f"{ratio:.3f}"),
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
                    "outbox_sender": f"manage.py outbox_sender --senders {args.senders}",
                    "bank": f"gunicorn gthread {args.workers}×{args.threads}, WANXIN_ROLE=bank",
                    "cache": REDIS_URL},
        "seed": seeded,
        "figures": figures,
        "one_bid_at_a_time": one_by_one,
        "ratio_to_pgbench": round(ratio, 4),
        "p99_confirmed_ms": figures["p99_confirmed_ms"],
        "one_bid_alone_p50_ms": one_by_one["alone_over_http"]["p50_ms"],
        "oversubscription_fen": checks["oversubscription_platform_fen"] + checks["oversubscription_bank_fen"],
        "target": (f"bids confirmed/s >= {TARGET_RATIO} x pgbench TPC-B tps; p99 release -> confirmed <= "
                   f"{TARGET_P99_CONFIRMED_MS} ms; one bid alone answered p50 <= {TARGET_ALONE_P50_MS} ms; "
                   "over-subscription 0"),
        "targets_met": targets,
        "target_met": all(targets.values()) and checks["ok"],
        "note": "shared 2-core machine: other engineers' tests and benchmarks ran at the same time (loadavg)",
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
