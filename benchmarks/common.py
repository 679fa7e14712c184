"""Pieces every benchmark shares: databases and their environment, machine facts, the
pgbench reference, a gunicorn under test, percentiles and statement counting. The bank in
the loop is ``bank_loop``; benchmarks import each other in no cycle (import-linter)."""

from __future__ import annotations

import glob
import os
import platform
import re
import shutil
import socket
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "benchmarks" / "results"
PG_HOST, PG_PORT, PG_USER = "127.0.0.1", 5432, "postgres"


# -- environment and databases ------------------------------------------------------------


def pg_url(name: str) -> str:
    return f"postgres://{PG_USER}@{PG_HOST}:{PG_PORT}/{name}"


def configure_environment(platform_db: str, bank_db: str) -> None:
    """Point Django at a benchmark's own databases, with fresh keys, before any setup."""
    from wanxin.protocol import signing

    platform_key, bank_key = signing.generate_private_key(), signing.generate_private_key()
    os.environ.update(
        {
            "DJANGO_SETTINGS_MODULE": "wanxin.settings",
            "DATABASE_URL": pg_url(platform_db),
            "BANK_DATABASE_URL": pg_url(bank_db),
            "WANXIN_ROLE": "all",
            "DEBUG": "0",  # DEBUG=1 would record every query in connection.queries
            "LOG_LEVEL": "WARNING",
            "WANXIN_LOG_LEVEL": "WARNING",
            "PLATFORM_PRIVATE_KEY": signing.private_key_to_pem(platform_key),
            "PLATFORM_PUBLIC_KEY": signing.public_key_to_pem(platform_key.public_key()),
            "BANK_PRIVATE_KEY": signing.private_key_to_pem(bank_key),
            "BANK_PUBLIC_KEY": signing.public_key_to_pem(bank_key.public_key()),
        }
    )
    os.environ.pop("WANXIN_ENV", None)  # development defaults; production would demand more config
    os.environ.pop("WANXIN_TEST_DB_SUFFIX", None)


def admin_connection():
    import psycopg

    return psycopg.connect(host=PG_HOST, port=PG_PORT, user=PG_USER, dbname="postgres", autocommit=True)


def recreate_databases(names: list[str]) -> None:
    with admin_connection() as conn:
        for name in names:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
            conn.execute(f'CREATE DATABASE "{name}"')


def drop_database(name: str) -> None:
    with admin_connection() as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def migrate(*, cache_table: bool = False) -> None:
    """Migrate the platform's and the bank's databases (after ``django.setup()``), and create
    the database cache's table when the benchmark serves pages that use it."""
    from django.core.management import call_command

    for alias in ("default", "bank"):
        call_command("migrate", database=alias, interactive=False, verbosity=0)
    if cache_table:
        call_command("createcachetable", database="default", verbosity=0)


# -- the machine --------------------------------------------------------------------------


def server_facts() -> dict[str, Any]:
    with admin_connection() as conn:
        version = conn.execute("SELECT version()").fetchone()[0]
        settings = dict(
            conn.execute(
                "SELECT name, setting || COALESCE(unit, '') FROM pg_settings WHERE name = ANY(%s)",
                [["synchronous_commit", "fsync", "wal_sync_method", "shared_buffers", "work_mem",
                  "effective_cache_size", "random_page_cost", "commit_delay", "max_connections",
                  "full_page_writes"]],
            ).fetchall()
        )
    return {"version": version, "settings": settings}


def machine_facts() -> dict[str, Any]:
    cpu_model = ""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu_model = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    try:
        mem_kb = int(re.search(r"MemTotal:\s+(\d+)", Path("/proc/meminfo").read_text()).group(1))
    except (OSError, AttributeError):
        mem_kb = 0
    return {
        "nproc": os.cpu_count(),
        "cpus_usable": len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count(),
        "cpu_model": cpu_model,
        "memory_gb": round(mem_kb / 1024 / 1024, 1),
        "python": platform.python_version(),
        "platform": platform.platform(),
        "loadavg_at_start": list(os.getloadavg()),
    }


def cpu_busy_seconds() -> float:
    """Machine-wide busy CPU seconds so far (all cores, every process: /proc/stat)."""
    fields = [int(x) for x in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]
    idle = fields[3] + (fields[4] if len(fields) > 4 else 0)  # idle + iowait
    return (sum(fields[:8]) - idle) / os.sysconf("SC_CLK_TCK")


def sample_backends(dbname: str, *, until: float, every: float = 0.05, stop=None) -> dict[str, float]:
    """What a database's backends are doing, sampled from pg_stat_activity: the share of
    backend-samples in each state (where a transaction's time goes, DB side). Samples until
    ``until`` (epoch seconds) or until ``stop`` (a ``threading.Event``) is set."""
    tally: dict[str, int] = {}
    total = 0
    with admin_connection() as conn:
        while time.time() < until and not (stop is not None and stop.is_set()):
            for state, wait_type, wait in conn.execute(
                "SELECT state, wait_event_type, wait_event FROM pg_stat_activity "
                "WHERE datname = %s AND backend_type = 'client backend' AND pid <> pg_backend_pid()",
                [dbname],
            ).fetchall():
                if state == "idle":
                    key = "idle: between transactions (app side)"
                elif state == "idle in transaction":
                    key = "idle in transaction: waiting for the app's next statement"
                elif wait_type is None:
                    key = "active: running in PostgreSQL"
                elif wait_type == "Lock":
                    key = f"active: waiting for a lock ({wait})"
                elif wait_type == "Client":
                    key = f"active: client I/O ({wait})"
                else:
                    key = f"active: {wait_type}/{wait}"
                tally[key] = tally.get(key, 0) + 1
                total += 1
            time.sleep(every)
    return {k: round(v / total, 3) for k, v in sorted(tally.items(), key=lambda kv: -kv[1])} if total else {}


def backend_cpu_seconds(dbname: str, *, until: float, every: float = 0.05) -> float:
    """CPU seconds of the PostgreSQL backends serving ``dbname`` until ``until``, from /proc,
    sampled: a backend seen first during the window counts from its start, one alive before
    from its first sample, each to its last sample (so a lower bound: a backend's last
    ``every`` seconds before it exits are missed). Only this database's backends: the machine
    is shared, and the other load's PostgreSQL work is not ours."""
    tick = os.sysconf("SC_CLK_TCK")
    seen: dict[int, list[float]] = {}
    first_round = True
    with admin_connection() as conn:
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


# -- pgbench, the reference ---------------------------------------------------------------


def pgbench_binary() -> str:
    found = shutil.which("pgbench") or next(iter(sorted(glob.glob("/usr/lib/postgresql/*/bin/pgbench"))[::-1]), None)
    if not found:
        raise SystemExit("pgbench not found on PATH or in /usr/lib/postgresql/*/bin")
    return found


def pgbench_connection() -> list[str]:
    return ["-h", PG_HOST, "-p", str(PG_PORT), "-U", PG_USER]


def pgbench_init(database: str, *, scale: int = 8) -> None:
    """A pgbench database of the caller's own (recreated first, so benchmarks running side by
    side never share one; the caller drops it)."""
    recreate_databases([database])
    subprocess.run([pgbench_binary(), "-i", "-q", "-s", str(scale), *pgbench_connection(), database], check=True,
                   capture_output=True, text=True)


def pgbench_measure(database: str, *, clients: int = 8, threads: int = 2, seconds: int,
                    select_only: bool = False) -> dict[str, Any]:
    """One pgbench run on an initialised database: TPC-B, or its select-only test (one indexed
    SELECT per transaction: the floor of one round trip), with the machine's CPU per transaction."""
    cpu0 = cpu_busy_seconds()
    done = subprocess.run(
        [pgbench_binary(), *(["-S"] if select_only else []), "-c", str(clients), "-j", str(threads),
         "-T", str(seconds), *pgbench_connection(), database],
        check=True, capture_output=True, text=True,
    )
    cpu = cpu_busy_seconds() - cpu0
    match = re.search(r"tps = ([\d.]+) \(without initial connection time\)", done.stdout)
    latency = re.search(r"latency average = ([\d.]+) ms", done.stdout)
    if not match:
        raise SystemExit(f"could not read pgbench output:\n{done.stdout}\n{done.stderr}")
    tps = float(match.group(1))
    return {
        "command": f"pgbench {'-S ' if select_only else ''}-c {clients} -j {threads} -T {seconds}",
        "tps": tps,
        "machine_cpu_ms_per_tx": round(cpu / (tps * seconds) * 1000, 3),
        "machine_cpu_busy_share": round(cpu / seconds / (os.cpu_count() or 1), 3),
        "latency_avg_ms": float(latency.group(1)) if latency else None,
        "output": done.stdout.strip().splitlines()[-6:],
    }


def run_pgbench(database: str, *, scale: int = 8, clients: int = 8, threads: int = 2,
                seconds: int) -> dict[str, Any]:
    """TPC-B, the benchmarks' reference, on a database of the caller's own (``pgbench_init``)."""
    pgbench_init(database, scale=scale)
    result = pgbench_measure(database, clients=clients, threads=threads, seconds=seconds)
    result["command"] += f" (after pgbench -i -s {scale})"
    return result


def pgbench_reference(database: str, *, seconds: int, scale: int = 8, clients: int = 8,
                      threads: int = 2) -> dict[str, Any]:
    """``run_pgbench`` on a database of the caller's own, dropped after."""
    try:
        return run_pgbench(database, scale=scale, clients=clients, threads=threads, seconds=seconds)
    finally:
        drop_database(database)


# -- percentiles ----------------------------------------------------------------------------


def percentile(sorted_values: list[float], p: float) -> float:
    """The nearest-rank percentile of values already sorted."""
    return 0.0 if not sorted_values else sorted_values[min(len(sorted_values) - 1, int(p / 100 * len(sorted_values)))]


def interpolated_percentile(values: list[float], p: float) -> float:
    """The percentile with linear interpolation between ranks (values in any order)."""
    ordered = sorted(values)
    if not ordered:
        return 0.0
    k = (len(ordered) - 1) * p / 100
    lo, hi = int(k), min(int(k) + 1, len(ordered) - 1)
    return ordered[lo] + (ordered[hi] - ordered[lo]) * (k - lo)


# -- the server under test ----------------------------------------------------------------


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


def backend_cpu(databases: list[str]) -> dict[int, tuple[str, float]]:
    """CPU seconds so far of each PostgreSQL backend of one of ``databases``, by pid (a backend
    that exits before the next reading is lost: differences are lower bounds)."""
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
    """CPU seconds used between two ``backend_cpu`` readings, by database."""
    used: dict[str, float] = {}
    for pid, (db, cpu) in after.items():
        used[db] = used.get(db, 0.0) + cpu - (before.get(pid, (db, 0.0))[1])
    return used


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
