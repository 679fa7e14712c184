"""Pieces every benchmark shares: a gunicorn under test and percentiles."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start_gunicorn(port: int, settings_module: str, *, threads: int = 8, workers: int = 2,
                   env: dict[str, str] | None = None) -> subprocess.Popen:
    """Serve the app as production does (gthread, 2 workers) and wait for /health.
    ``env`` adds to (or overrides) this process's environment, e.g. ``WANXIN_ROLE``."""
    import httpx

    env = {**os.environ, "DJANGO_SETTINGS_MODULE": settings_module, "PORT": str(port), **(env or {})}
    server = subprocess.Popen(
        [sys.executable, "-m", "gunicorn", "wanxin.wsgi:application", "--bind", f"127.0.0.1:{port}",
         "--worker-class", "gthread", "--workers", str(workers), "--threads", str(threads),
         "--log-level", "warning"],
        cwd=ROOT, env=env,
    )
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if server.poll() is not None:
            raise SystemExit(f"gunicorn exited with code {server.returncode}")
        try:
            if httpx.get(f"http://127.0.0.1:{port}/health", timeout=2).status_code == 200:
                return server
        except httpx.HTTPError:
            pass
        time.sleep(0.3)
    stop_server(server)
    raise SystemExit("gunicorn did not answer /health within 60 s")


def tree_cpu_seconds(pid: int) -> float:
    """CPU seconds (user + system) used so far by a process and its live children (a
    gunicorn master and its workers), from /proc."""
    tick = os.sysconf("SC_CLK_TCK")
    total = 0.0
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except (OSError, IndexError):
            continue  # exited meanwhile
        if int(stat.parent.name) == pid or int(fields[1]) == pid:  # fields[1]: the parent's pid
            total += (int(fields[11]) + int(fields[12])) / tick  # utime, stime
    return total


def pgbench_reference(database: str, *, seconds: int, scale: int = 8, clients: int = 8,
                      threads: int = 2) -> dict[str, Any]:
    """``ledger.run_pgbench`` (TPC-B, the benchmarks' reference) on a database of the
    caller's own, so benchmarks running side by side never drop each other's; dropped after."""
    from benchmarks import ledger

    saved, ledger.PGBENCH_DB = ledger.PGBENCH_DB, database
    try:
        return ledger.run_pgbench(scale=scale, clients=clients, threads=threads, seconds=seconds)
    finally:
        ledger.drop_database(database)
        ledger.PGBENCH_DB = saved


def stop_server(server: subprocess.Popen) -> None:
    if server.poll() is None:
        server.terminate()
        try:
            server.wait(15)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait()


def result_head(name: str, *, started: float, args, machine: dict) -> dict:
    """The first keys of every benchmark's JSON: what ran, when, how long, with which
    arguments, on which machine (its load average at the end added now)."""
    import datetime as dt

    machine["loadavg_at_end"] = list(os.getloadavg())
    return {
        "benchmark": name,
        "timestamp": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        "runtime_s": round(time.monotonic() - started, 1),
        "args": {k: str(v) if isinstance(v, Path) else v for k, v in vars(args).items()},
        "machine": machine,
    }


class StatementCounter:
    """A Django ``execute_wrapper``: counts the SQL statements a connection sends (savepoint
    commands also apart; BEGIN/COMMIT are not sent as statements) and the time spent in them."""

    SAVEPOINT_PREFIXES = ("SAVEPOINT", "RELEASE S", "ROLLBACK ")

    def __init__(self) -> None:
        self.reset()

    def reset(self) -> None:
        self.statements, self.savepoints, self.seconds = 0, 0, 0.0

    def __call__(self, execute, sql, params, many, context):
        started = time.perf_counter()
        try:
            return execute(sql, params, many, context)
        finally:
            self.statements += 1
            self.savepoints += sql.lstrip()[:9].upper() in self.SAVEPOINT_PREFIXES
            self.seconds += time.perf_counter() - started
