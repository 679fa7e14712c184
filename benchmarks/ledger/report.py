"""One measured phase (requests, latencies, CPU by process) and the printed table."""

from __future__ import annotations

import os
import time
from typing import Any

from benchmarks.common import (
    backend_cpu_seconds,
    cpu_busy_seconds,
    percentile,
    sample_backends,
    tree_cpu_seconds,
)

from .config import BANK_DB, PHASE_NUMBERS, customer_no
from .workers import Workers


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
