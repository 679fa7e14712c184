"""Ledger throughput of the bank, beside the machine's own PostgreSQL ceiling (pgbench).

    python -m benchmarks.ledger [--seconds 15] [--http-seconds 10] [--pgbench-seconds 20]

Measures, on the PostgreSQL at 127.0.0.1:5432 (user postgres, trust auth):

(a) ledger requests per second through the bank's service layer: the real signed
    pipeline (``processing.verify`` → ``processing.execute_direct`` with
    ``handlers.DIRECT`` → ``processing.sign``) minus HTTP, from N worker *processes*
    (each runs ``django.setup()`` itself), for these mixes:
      - freeze + post pairs: USER_PRE_TRANSACTION ALLOCATION, then TRANSFER
        ALLOCATION_FEE out of that freeze to PLATFORM_INCOME (one hot row);
      - the same with the payee spread over PLATFORM_INCOME and PLATFORM_CAPITAL;
      - plain transfers: TRANSFER COMPENSATION PLATFORM_CAPITAL→customer and
        ALLOCATION_SETTLE customer→PLATFORM_CAPITAL (one hot row);
      - freezes only (touch only the customer's own row: no hot row; a reference).
(b) signed direct-API requests per second over HTTP against gunicorn (gthread, 2×8),
    N client processes with httpx: QUERY_BALANCE, and the plain transfer mix; once with
    the project's settings (a new database connection per request) and once with
    Django's psycopg pool (``benchmarks/settings_pooled.py``) for comparison.
(b2) first of all: BATCH items/s over HTTP (PROTOCOL §5a): 8 sender processes send signed
    BATCHes of freeze + post pairs to gunicorn; ``batch_ratio_to_pgbench`` (target 1.5),
    with CPU per item of gunicorn, the bank database's backends and the senders.
    ``--batch-only`` runs pgbench, the seed and this phase alone.
(c) pgbench TPC-B (scale 8, 8 clients, 2 threads) on the same server in the same run;
    every figure is also printed as a ratio to its tps.

Every request is one committed database transaction, so "requests/s" is comparable with
pgbench's "tps". The databases wanxin_bench, wanxin_bench_bank and wanxin_bench_pgbench
are dropped and recreated at the start. The ledger invariants (sum of balances is zero,
every account's history replays to its balance) are checked at the end. Results go to
``benchmarks/results/ledger.json``.

Modules: ``config`` (names and constants), ``caller`` (the bank's client and the mixes),
``workers`` (the worker processes), ``seed`` (seed, reference figures, invariants),
``report`` (one measured phase), ``run`` (the command line); shared helpers are in
``benchmarks.common``.
"""

from .caller import Caller, one_iteration
from .config import OK
from .seed import check_invariants

__all__ = ["OK", "Caller", "check_invariants", "one_iteration"]
