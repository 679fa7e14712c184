"""The floor of one HTTP hop: the project's cheapest view under the production server.

    python -m benchmarks.http_floor [--requests 1000] [--rounds 3] [--pgbench-seconds 20]

What the other HTTP benchmarks cannot go below, measured the way they measure: gunicorn
(gthread, 2 workers × 8 threads, as ``common.start_gunicorn`` serves everything) runs the
project with ``WANXIN_ROLE=all`` and answers ``GET /health`` (a constant JSON body: no
database, no cache, no template; only Django's middleware and URL routing), and a client
built like ``hot_loan``'s (one connection per request, every request released at the same instant,
asyncio streams) sends ``--requests`` of them at once, ``--rounds`` times. pgbench TPC-B
runs in the same run, as the reference of every other benchmark.

Why it matters: a bid in ``hot_loan`` is at least two such hops on the same machine (the
investor → the platform, the platform → the bank), and a period of ``auto_repay`` at least
two hops to the bank (the REPAYMENT freeze and CONFIRM_REPAYMENT). With no work at all
behind them, bids/s and periods/s could not exceed half of what this measures; the JSON
records those bounds as ratios to pgbench beside the targets (0.15 × and 0.10 ×).
Results go to ``benchmarks/results/http_floor.json``.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import statistics
import sys
import time
from pathlib import Path
from typing import Any

from benchmarks.common import (
    configure_environment,
    cpu_busy_seconds,
    free_port,
    machine_facts,
    pgbench_reference,
    result_head,
    start_gunicorn,
    stop_server,
    tree_cpu_seconds,
)

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "benchmarks" / "results"
PGBENCH_DB = "wanxin_floor_pgbench"
TARGETS = {"hot_loan bids/s (2 hops per bid)": 0.15, "auto_repay periods/s (2 bank hops per period)": 0.10}


async def burst(port: int, count: int, timeout: float = 120) -> dict[str, Any]:
    """``count`` connections opened first, then every GET released at once."""
    connections = await asyncio.gather(*(asyncio.open_connection("127.0.0.1", port) for _ in range(count)))
    release = asyncio.Event()
    request = f"GET /health HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nConnection: close\r\n\r\n".encode()
    started: dict[str, float] = {}

    async def one(reader, writer) -> tuple[bool, float]:
        await release.wait()
        writer.write(request)
        await writer.drain()
        raw = await asyncio.wait_for(reader.read(), timeout)
        writer.close()
        return raw.startswith(b"HTTP/1.1 200"), time.perf_counter() - started["t0"]

    tasks = [asyncio.create_task(one(r, w)) for r, w in connections]
    await asyncio.sleep(0.05)
    started["t0"] = time.perf_counter()
    release.set()
    answers = await asyncio.gather(*tasks)
    seconds = sorted(s for _, s in answers)
    return {"ok": sum(ok for ok, _ in answers), "wall_s": seconds[-1], "p50_ms": seconds[len(seconds) // 2] * 1000}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.http_floor", description=__doc__.split("\n\n")[0])
    parser.add_argument("--requests", type=int, default=1000, help="requests released at once per round")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--pgbench-seconds", type=int, default=20)
    parser.add_argument("--output", type=Path, default=RESULTS / "http_floor.json")
    args = parser.parse_args(argv)

    started = time.monotonic()
    sys.path.insert(0, str(ROOT))
    configure_environment("wanxin_floor", "wanxin_floor_bank")  # settings need databases named; /health touches none
    machine = machine_facts()
    print("pgbench TPC-B…", flush=True)
    pgbench = pgbench_reference(PGBENCH_DB, seconds=args.pgbench_seconds)
    print(f"  pgbench: {pgbench['tps']:.1f} tps", flush=True)

    port = free_port()
    server = start_gunicorn(port, "wanxin.settings", env={"WANXIN_ROLE": "all"})
    rounds = []
    try:
        asyncio.run(burst(port, 50))  # warm up every worker thread
        for n in range(args.rounds):
            cpu0 = tree_cpu_seconds(server.pid)
            cpu_machine0 = cpu_busy_seconds()
            result = asyncio.run(burst(port, args.requests))
            result["server_cpu_ms_per_request"] = round((tree_cpu_seconds(server.pid) - cpu0) / args.requests * 1000, 3)
            result["machine_cpu_ms_per_request"] = round(
                (cpu_busy_seconds() - cpu_machine0) / args.requests * 1000, 3)
            result["requests_per_s"] = round(args.requests / result["wall_s"], 1)
            rounds.append(result)
            print(f"  round {n + 1}: {result['requests_per_s']:.0f} req/s, {result['ok']}/{args.requests} ok, "
                  f"server CPU {result['server_cpu_ms_per_request']:.2f} ms/request", flush=True)
    finally:
        stop_server(server)

    floor = statistics.median(r["requests_per_s"] for r in rounds)
    bounds = {name: {"bound_per_s": round(floor / 2, 1), "bound_ratio": round(floor / 2 / pgbench["tps"], 4),
                     "target_ratio": target} for name, target in TARGETS.items()}
    result = {
        **result_head("http_floor", started=started, args=args, machine=machine),
        "pgbench": pgbench,
        "rounds": rounds,
        "floor_requests_per_s": floor,
        "floor_ratio_to_pgbench": round(floor / pgbench["tps"], 4),
        "bounds_with_no_work_behind_the_hops": bounds,
    }
    print(f"\nGET /health: median {floor:.0f} req/s = {floor / pgbench['tps']:.3f} × pgbench ({pgbench['tps']:.0f} tps)")
    for name, b in bounds.items():
        print(f"  {name}: at most {b['bound_per_s']:.0f}/s = {b['bound_ratio']:.3f} × pgbench "
              f"(target {b['target_ratio']} ×)")
    args.output.parent.mkdir(parents=True, exist_ok=True)
    args.output.write_text(json.dumps(result, indent=2, ensure_ascii=False) + "\n")
    print(f"Wrote {args.output.relative_to(ROOT) if args.output.is_relative_to(ROOT) else args.output}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
