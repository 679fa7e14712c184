"""CPU seconds of the PostgreSQL backends serving some databases during a phase, from
/proc: the share of an allocation's cost that is PostgreSQL's own work (the platform's and
the bank's processes are measured apart, ``tree_cpu_seconds`` and ``getrusage``)."""

from __future__ import annotations

import os
import re
import resource
import subprocess
import threading

from benchmarks.common import (
    admin_connection,
    drop_database,
    pgbench_binary,
    pgbench_connection,
    recreate_databases,
)

TICKS = os.sysconf("SC_CLK_TCK")


def _cpu(pid: int) -> float | None:
    try:
        with open(f"/proc/{pid}/stat") as stat:
            fields = stat.read().rsplit(")", 1)[1].split()
    except OSError:
        return None
    return (int(fields[11]) + int(fields[12])) / TICKS  # utime, stime


class BackendCpu:
    """Samples every ``every`` seconds which backends serve ``databases`` and their CPU
    time. A backend there at the start counts from its CPU then; one that starts later from
    zero; one that exits loses at most its last interval."""

    def __init__(self, databases: list[str], every: float = 0.1):
        self.databases, self.every = databases, every
        self.first: dict[int, tuple[str, float]] = {}
        self.last: dict[int, float] = {}
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._sample, daemon=True)

    def _backends(self, conn) -> list[tuple[int, str]]:
        return conn.execute("SELECT pid, datname FROM pg_stat_activity WHERE datname = ANY(%s) "
                            "AND backend_type = 'client backend' AND pid <> pg_backend_pid()",
                            [self.databases]).fetchall()

    def start(self) -> BackendCpu:
        with admin_connection() as conn:
            for pid, db in self._backends(conn):
                cpu = _cpu(pid)
                if cpu is not None:
                    self.first[pid], self.last[pid] = (db, cpu), cpu
        self._thread.start()
        return self

    def _sample(self) -> None:
        with admin_connection() as conn:
            while not self._stop.is_set():
                for pid, db in self._backends(conn):
                    cpu = _cpu(pid)
                    if cpu is None:
                        continue
                    self.first.setdefault(pid, (db, 0.0))
                    self.last[pid] = cpu
                self._stop.wait(self.every)

    def stop(self) -> dict[str, float]:
        """CPU seconds by database."""
        self._stop.set()
        self._thread.join()
        for pid in self.first:
            cpu = _cpu(pid)
            if cpu is not None:
                self.last[pid] = cpu
        used: dict[str, float] = dict.fromkeys(self.databases, 0.0)
        for pid, (db, start) in self.first.items():
            used[db] += self.last[pid] - start
        return used


def pgbench_own_cpu(database: str, *, seconds: int, scale: int = 8, clients: int = 8, threads: int = 2) -> dict:
    """pgbench TPC-B once more, measuring its own CPU per transaction (the pgbench client
    and its backends, not the rest of the machine): the figure to set beside an
    allocation's own CPU, since on a shared machine both get only part of the cores."""
    binary, conn = pgbench_binary(), pgbench_connection()
    recreate_databases([database])
    try:
        subprocess.run([binary, "-i", "-q", "-s", str(scale), *conn, database], check=True, capture_output=True)
        children0 = sum(resource.getrusage(resource.RUSAGE_CHILDREN)[:2])
        backends = BackendCpu([database]).start()
        done = subprocess.run([binary, "-c", str(clients), "-j", str(threads), "-T", str(seconds), *conn, database],
                              check=True, capture_output=True, text=True)
        used = backends.stop()[database]
        client = sum(resource.getrusage(resource.RUSAGE_CHILDREN)[:2]) - children0
    finally:
        drop_database(database)
    match = re.search(r"number of transactions actually processed: (\d+)", done.stdout)
    tps = re.search(r"tps = ([\d.]+) \(without initial connection time\)", done.stdout)
    count = int(match.group(1)) if match else 0
    return {"tps": float(tps.group(1)) if tps else None, "transactions": count,
            "backend_cpu_ms_per_tx": round(used / count * 1000, 3) if count else None,
            "client_cpu_ms_per_tx": round(client / count * 1000, 3) if count else None,
            "own_cpu_ms_per_tx": round((used + client) / count * 1000, 3) if count else None}
