"""The daily allocation fee run over N DAILY allocations in progress, bank in the loop.

    python -m benchmarks.allocation_fees [--allocations 10000] [--workers 8] [--batch 500]
                                         [--sequential 1000] [--profile] [--pgbench-seconds 20]

Issues 12 and 14: "the daily fee run over 10,000 DAILY allocations in progress with the bank
in the loop (real HTTP, production server): allocations/s"; targets >= 0.1 x (issue 12) and
>= 0.5 x (issue 14) pgbench TPC-B tps, measured in the same run (before and after; their mean
is the reference). On the PostgreSQL at 127.0.0.1:5432 it drops and recreates
wanxin_allocfees (platform) and wanxin_allocfees_bank (bank), migrates both and seeds,
set-based (``seed.py``), the state paying leaves: per customer a depository account that
authorised ALLOCATION and ALLOCATION_FEE; at the bank its recharge, the deposit and risk-fund
freezes and the first fee with their transfers and balance history; on the platform the
customer, the mirror, its fund records, and one DAILY allocation IN_PROGRESS (¥10,000 deposit
x 3, fee ¥36.00 a trading day) that started the trading day before the run's day, with its
bank requests and fund dynamics. Every tenth customer holds less than a fee after paying, so
its charge becomes arrears.

The bank runs as production does (gunicorn gthread 2 x 8, WANXIN_ROLE=bank, own database);
this process is the platform and runs ``allocation.services.fees_charge``: chunks of
``--batch`` allocations, each decided and written set-based in one transaction, its
transfers sent as one bank BATCH over HTTP after the commit and the answers applied in one
transaction; ``--workers`` threads take chunks at once. Two timed phases over disjoint
allocations (a sample with ``workers=1``, SQL statements counted and optionally profiled,
then the rest with ``--workers``), each from the job's start to its return (every transfer
is final by then). Then the same day is run again over everything: nothing may be charged.

Afterwards (``checks.py``): every allocation has exactly one FeeCharge for the day, PAID
with a successful transfer or ARREARS with its arrears recorded; each customer's bank
balance moved by exactly its fee (or not at all); PLATFORM_INCOME by the sum of the paid
fees; fees_paid and the fund records agree; the platform's mirrors equal the bank's
balances; the bank's accounts sum to zero and replay (``wanxin.bank.invariants``). Writes
benchmarks/results/allocation_fees.json.
"""
