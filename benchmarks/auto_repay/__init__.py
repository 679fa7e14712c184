"""Automatic repayment of N due periods with the bank in the loop over real HTTP.

    python -m benchmarks.auto_repay [--periods 10000] [--processes 2] [--workers 8] [--sequential-periods 1000]
                                    [--pgbench-seconds 20] [--output …]

Issue 4 (c), issue 14: "automatic repayment: due periods repaid per second, bank in the loop,
target >= 0.25 x pgbench TPC-B tps" (``ratio_to_pgbench``). On the PostgreSQL at 127.0.0.1:5432 it
drops and recreates wanxin_autorepay (platform) and wanxin_autorepay_bank (bank), migrates
both, and seeds, set-based, the state the real flow leaves after disbursement (see
``seed``): --periods + --sequential-periods REPAYING loans of ¥12,000 over 12 months, three
investors each (¥5,000 / ¥4,000 / ¥3,000) from a pool of investors each holding about ten
loans, with their repayment and receivable plans; and at the bank the accounts, cards,
recharges, tender freezes, CREATE_PROJECT / MODIFY_PROJECT and CONFIRM_LOAN requests with
their transfers and balance history. The bank runs as production does (gunicorn gthread
2 x 8, WANXIN_ROLE=bank, its own database); this process is the platform
(WANXIN_ROLE=platform) and runs ``wanxin.repayments.services.auto_repay``: chunks of loans
started set-based, per period a USER_PRE_TRANSACTION (REPAYMENT freeze) and a CONFIRM_REPAYMENT
sent through the depository outbox as BATCHes over HTTP (decision record 0007), each batch's
answers applied in one transaction.

Modules: ``config`` (what is seeded, the target), ``seed``, ``checks``, ``run`` (the phases and
the command line); shared pieces in ``benchmarks.common``.

Two timed phases: the sequential sample (first period due yesterday, ``workers=1``), then
the --periods loans (first period due today) with ``workers`` threads. Each phase is timed
from the job's start until every period is REPAID. Afterwards it checks every period
REPAID with one DONE repayment, every receivable RECEIVED, every investor's bank balance up
by exactly their shares, PLATFORM_INCOME up by the platform's shares, the platform's
mirrors (DepositoryAccount, the last FundRecord) equal to the bank's balances, no request
pending, and the bank's ``total_balance() == 0`` and ``replay_mismatches() == []``.
pgbench TPC-B runs in the same run; the load average is recorded. Writes
benchmarks/results/auto_repay.json.
"""
