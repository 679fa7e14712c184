"""The worker processes that drive the mixes (spawned, each with its own ``django.setup()``),
the batching-writer variant of the ceiling prototype, and their profiles."""

from __future__ import annotations

import cProfile
import io
import json
import multiprocessing as mp
import pstats
import queue
import resource
import time
import traceback
from typing import Any

from benchmarks.common import (
    PG_HOST,
    PG_PORT,
    PG_USER,
)

from .caller import Caller, one_iteration
from .config import AMOUNT, BANK_DB, OK, batch_customer_no

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
