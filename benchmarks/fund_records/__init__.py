"""Fund records (资金动态) API latency for a customer with 100,000 records.

    python -m benchmarks.fund_records [--records 100000] [--other-rows 200000] [--iterations 200]

On the PostgreSQL at 127.0.0.1:5432 (user postgres, trust auth) it drops and recreates the
databases wanxin_bench_funds and wanxin_bench_funds_bank, migrates them, and seeds one
customer with ``--records`` fund records spread over the last two years (recharges,
withdrawals with their commissions, freezes, unfreezes, tenders, repayments received …),
plus ``--other-rows`` records of other customers so the indexes hold realistic neighbours.

Then it serves the platform with gunicorn and measures, one request at a time over HTTP
(httpx, bearer token), p50/p95/p99 of:
  - the first page of GET /api/v1/funds/records (20 newest);
  - a filtered deep page: one type within one year, from a cursor thousands of rows deep;
  - an unfiltered deep page near the end of the customer's history;
  - the CSV export of one year (GET /api/v1/funds/records.csv, ~50,000 rows, streamed);
  - the statistics of one year (totals by type and months).
It repeats the page cases with 8 concurrent clients, reports the SQL of each page with its
plan and time (and what OFFSET pagination would cost at the same depth), and runs pgbench's
select-only test in the same run as the machine's reference latency. Results go to
``benchmarks/results/fund_records.json``. Target: p95 under 100 ms for a page.

Modules: ``seed`` (the seeded history), ``cases`` (the cases and their SQL plans), ``client``
(the HTTP side), ``run`` (the command line); shared helpers are in ``benchmarks.common``.
"""
