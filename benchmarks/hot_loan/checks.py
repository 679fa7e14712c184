"""The hot loan benchmark's after-burst measurements and checks (``benchmarks.hot_loan``):
when each bid was confirmed at the bank, what is left pending, agreement of platform and bank
and the ledger's invariants; and the optional py-spy profile of every server worker."""

from __future__ import annotations

import datetime as dt
import re
import shutil
import signal
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path
from typing import Any

from benchmarks import ledger
from benchmarks.common import ROOT, percentile


def confirmations(project_id: int, released_at: float, timeout: float) -> dict[str, Any]:
    """Wait (up to ``timeout`` s) until no tender of the loan waits for the bank, then read when
    each freeze's answer was applied (its request's ``finished_at``): seconds from the release."""
    from wanxin.depository.models import DepositoryRequest
    from wanxin.lending.models import Tender

    tenders = Tender.objects.filter(project_id=project_id)
    deadline = time.monotonic() + timeout
    while tenders.filter(status="PENDING").exists() and time.monotonic() < deadline:
        time.sleep(0.1)
    answered = DepositoryRequest.objects.filter(request_no__in=tenders.values("request_no"),
                                                finished_at__isnull=False)
    by_status: dict[str, list[float]] = {}
    for status, finished in answered.values_list("status", "finished_at"):
        by_status.setdefault(status, []).append(finished.timestamp() - released_at)
    confirmed = sorted(by_status.get("SUCCESS", []))
    last = confirmed[-1] if confirmed else None
    return {
        "confirmed": len(confirmed),
        "refused_by_bank": len(by_status.get("FAIL", [])),
        "still_pending": tenders.filter(status="PENDING").count(),
        "last_confirmed_s": round(last, 3) if last else None,
        "confirmed_per_s": round(len(confirmed) / last, 1) if last else 0.0,
        "p50_confirmed_ms": round(percentile(confirmed, 50) * 1000, 1) if confirmed else None,
        "p99_confirmed_ms": round(percentile(confirmed, 99) * 1000, 1) if confirmed else None,
    }


def pending_settle(wait_s: float = 15.0) -> dict[str, Any]:
    """Wait for requests still pending; then run the recovery job on whatever is left."""
    from wanxin.depository import services as depository
    from wanxin.depository.models import DepositoryRequest

    pending = DepositoryRequest.objects.filter(status=DepositoryRequest.Status.PENDING)
    first = pending.count()
    deadline = time.monotonic() + wait_s
    while pending.exists() and time.monotonic() < deadline:
        time.sleep(0.5)
    recovered = depository.pending_recover(older_than=dt.timedelta(0)) if pending.exists() else {}
    return {"pending_after_burst": first, "recovery": recovered, "pending_at_end": pending.count()}




def check(project_id: int, probe_project_id: int, accepted_fen: int, accepted_count: int) -> dict[str, Any]:
    from django.db.models import Count, Sum

    from wanxin.bank.models import Account, Freeze
    from wanxin.bank.models import Project as BankProject
    from wanxin.funds.models import DepositoryAccount
    from wanxin.lending.models import Project, Tender

    project = Project.objects.get(pk=project_id)
    tenders = {row["status"]: {"count": row["n"], "fen": row["s"]}
               for row in Tender.objects.filter(project=project).values("status").annotate(n=Count("pk"), s=Sum("amount"))}
    frozen_tenders = tenders.get("FROZEN", {"count": 0, "fen": 0})
    bank_project = BankProject.objects.using("bank").get(project_no=project.project_no)
    freezes = Freeze.objects.using("bank").filter(project_no=project.project_no, biz_type="TENDER")
    bank_frozen = freezes.filter(status="FROZEN").aggregate(s=Sum("remaining"), n=Count("pk"))
    bank_frozen_fen, bank_frozen_count = bank_frozen["s"] or 0, bank_frozen["n"]
    probe_fen = Tender.objects.filter(project_id=probe_project_id, status="FROZEN").aggregate(s=Sum("amount"))["s"] or 0
    investor_accounts = Account.objects.using("bank").filter(account_no__startswith="HOTI")
    mirrors = DepositoryAccount.objects.filter(user_no__startswith="HOTI")
    invariants = ledger.check_invariants()
    result = {
        "amount_fen": project.amount,
        "platform": {"status": project.status, "bank_status": project.bank_status, "raised_fen": project.raised,
                     "frozen_amount_fen": project.frozen_amount, "tenders": tenders},
        "bank": {"project_status": bank_project.status, "frozen_on_project_fen": bank_frozen_fen,
                 "frozen_tenders": bank_frozen_count,
                 "investors_frozen_fen": investor_accounts.aggregate(s=Sum("frozen"))["s"] or 0,
                 "probe_loan_frozen_fen": probe_fen},
        "platform_mirror_frozen_fen": mirrors.aggregate(s=Sum("frozen"))["s"] or 0,
        "oversubscription_platform_fen": max(0, project.raised - project.amount,
                                             project.frozen_amount - project.amount),
        "oversubscription_bank_fen": max(0, bank_frozen_fen - project.amount),
        "invariants": invariants,
    }
    result["consistent"] = (
        project.raised == project.frozen_amount == frozen_tenders["fen"] == bank_frozen_fen == accepted_fen
        and frozen_tenders["count"] == bank_frozen_count == accepted_count
        and set(tenders) <= {"FROZEN"}
        # every investor's frozen balance, at the bank and in the platform's mirror: both loans
        and result["bank"]["investors_frozen_fen"] == bank_frozen_fen + probe_fen == result["platform_mirror_frozen_fen"]
    )
    result["ok"] = (result["consistent"] and invariants["ok"] and result["oversubscription_platform_fen"] == 0
                    and result["oversubscription_bank_fen"] == 0)
    return result


# -- profiling (optional: py-spy on every gunicorn worker during the burst) -------------------------


def worker_pids(master: int) -> list[int]:
    pids = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            if int(stat.read_text().rsplit(")", 1)[1].split()[1]) == master:
                pids.append(int(stat.parent.name))
        except (OSError, IndexError, ValueError):
            continue
    return pids


def profilers_start(servers: dict[str, int], out_dir: Path, mode: str) -> list[tuple[str, subprocess.Popen, Path]]:
    """``py-spy record`` (raw collapsed stacks) per worker: ``cpu`` samples only the thread
    holding the GIL (Python's CPU), ``wall`` every thread not idle (waits on PostgreSQL and
    the bank included)."""
    spy = shutil.which("py-spy") or str(Path(sys.executable).parent / "py-spy")
    running = []
    for name, master in servers.items():
        for pid in worker_pids(master):
            path = out_dir / f"{name}-{pid}.txt"
            proc = subprocess.Popen([spy, "record", "--pid", str(pid), "--rate", "250", "--format", "raw",
                                     "--output", str(path), "--nonblocking", *(["--gil"] if mode == "cpu" else [])],
                                    stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
            running.append((name, proc, path))
    time.sleep(1.0)  # attached before the release
    return running


def profilers_stop(running: list[tuple[str, subprocess.Popen, Path]], top: int = 30) -> str:
    """Stop the recorders and sum the samples per server: wanxin's frames holding the most
    samples (inclusive: each frame counted once per stack, so callers include callees),
    waits on PostgreSQL (psycopg ``Connection.wait``), and the frames sampled most (self)."""
    for _, proc, _ in running:
        proc.send_signal(signal.SIGINT)
    inclusive: dict[str, Counter] = {}
    own: dict[str, Counter] = {}
    totals: Counter = Counter()
    for name, proc, path in running:
        proc.wait(30)
        if not path.exists():
            continue
        counter, leaves = inclusive.setdefault(name, Counter()), own.setdefault(name, Counter())
        for line in path.read_text().splitlines():
            stack, _, count = line.rpartition(" ")
            if not count.isdigit():
                continue
            frames = [re.sub(r" \(/.*/site-packages/", " (", f.replace(str(ROOT) + "/", "")) for f in stack.split(";")]
            totals[name] += int(count)
            leaves[frames[-1]] += int(count)
            for frame in set(frames):
                if frame.split(" (", 1)[-1].startswith("wanxin/") or "Connection.wait" in frame:
                    counter[frame] += int(count)
    lines = []
    for name, counter in inclusive.items():
        total = max(totals[name], 1)
        lines.append(f"== {name}: {totals[name]} samples; wanxin frames and PostgreSQL waits, inclusive ==")
        lines += [f"{count / total:6.1%}  {frame}" for frame, count in counter.most_common(top)]
        lines.append(f"-- {name}: most sampled frames (self) --")
        lines += [f"{count / total:6.1%}  {frame}" for frame, count in own[name].most_common(15)]
        lines.append("")
    return "\n".join(lines)
