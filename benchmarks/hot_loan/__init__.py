"""A hot loan: N funded investors bid at once on one loan over HTTP (issue 4 benchmark a;
issue 14: answered at once, then confirmed by the bank).

    python -m benchmarks.hot_loan [--investors 1000] [--pgbench-seconds 20]

On the PostgreSQL at 127.0.0.1:5432 (user postgres, trust auth) it drops and recreates
wanxin_hot (platform), wanxin_hot_bank (bank) and wanxin_hot_pgbench, generates a
throw-away key pair, and serves the platform and the bank as two separate gunicorn
processes (gthread, 2 workers × 8 threads each, ``WANXIN_ROLE=platform`` / ``bank``), the
platform reaching the bank over HTTP at ``BANK_URL`` as in production; the platform's
cache is the local Redis. Seeding: ``seed`` (real code paths where cheap,
set-based where the real path is a browser gateway flow per customer).

The loan's terms: increment = minimum = 100 yuan, per-investor cap 1,000 yuan; each
investor bids a random 1–10 increments, and the loan's amount is the bids' total ÷ 1.3
(rounded down to the increment), so about a quarter of the money is refused.

The bids (``client``): one client process opens one HTTP connection per
investor, then releases every ``POST /api/v1/loans/projects/{id}/tenders`` (bearer token,
``Idempotency-Key``) at the same instant. The platform answers each at once with the tender
(``PENDING``: reserved, its freeze sent in a BATCH by the platform's outbox sender process,
``manage.py outbox_sender --senders 2``, woken by the commit); a 4xx is
refused with its code. Then the run waits until no tender is pending and reads when each
freeze's answer was applied (``finished_at`` of its request).

Modules: ``seed`` (environment, investors, the loans), ``client`` (the burst and the probes),
``checks`` (confirmations, agreement checks, the optional py-spy profile), ``run`` (the run and
the command line); shared pieces in ``benchmarks.common``.

Before the burst, a probe on a second small loan: bids one after another over HTTP (one bid
alone, answered), and in-process through the WSGI handler (SQL statements per answered bid).

Measured: bids confirmed at the bank per second from the release to the last confirmation
(``ratio_to_pgbench`` = that ÷ pgbench TPC-B tps, target ≥ 0.15), p50/p99 release →
confirmed (``p99_confirmed_ms``, target ≤ 2,000), answered bids/s and p50/p99, one bid alone
answered p50 (target ≤ 15 ms), CPU per bid of the platform's and the bank's gunicorn, the
client and the whole machine, the backends' states in both databases, and the load average.
Checked (``checks``): no over-subscription on the platform (raised,
frozen) or at the bank (frozen tenders of the project), platform raised == sum of FROZEN
tenders == the bank's frozen on the project == the accepted bids, no request left pending,
the bank's ``total_balance() == 0`` and ``replay_mismatches() == []`` (exit status 1 if any
check fails; a missed target is only reported). Results go to
``benchmarks/results/hot_loan.json``; ``--profile [cpu|wall]`` also records every gunicorn
worker with py-spy during the burst (``hot_loan_profile.txt``).
"""
