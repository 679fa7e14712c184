"""A real sender process (``manage.py outbox_sender``) killed with SIGKILL after the bank
committed its BATCH and before it heard the answer: a sender started afterwards applies every
request once, and nothing moves twice (decision record 0007)."""

from __future__ import annotations

import datetime as dt
import http.server
import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import httpx
import pytest
from django.conf import settings
from django.db import connections, transaction
from django.utils import timezone

from wanxin.bank import invariants
from wanxin.bank.models import BankRequest
from wanxin.depository import outbox, services
from wanxin.depository.models import DepositoryRequest
from wanxin.protocol import codes

from .conftest import FUNDED, balance, freeze_payload, freezes_of

pytestmark = [pytest.mark.django_db(transaction=True, databases=["default", "bank"]), pytest.mark.slow]
ROOT = Path(__file__).resolve().parents[3]


class Swallow(http.server.ThreadingHTTPServer):
    """The network between the sender and the bank: forwards every request to the bank, which
    executes it, and then holds the answer back for as long as the test wants."""

    daemon_threads = True

    def __init__(self, bank_url: str) -> None:
        self.bank_url, self.forwarded, self.release = bank_url, threading.Event(), threading.Event()

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_POST(handler) -> None:
                body = handler.rfile.read(int(handler.headers["Content-Length"]))
                answer = httpx.post(f"{self.bank_url}{handler.path.removeprefix('/bank')}", content=body,
                                    headers={"Content-Type": "application/json"}, timeout=60)
                self.forwarded.set()
                self.release.wait(120)
                handler.send_response(answer.status_code)
                handler.send_header("Content-Type", "application/json")
                handler.end_headers()
                handler.wfile.write(answer.content)

            def log_message(handler, *args) -> None:
                pass

        super().__init__(("127.0.0.1", 0), Handler)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server_address[1]}/bank"


def sender_process(bank_url: str) -> subprocess.Popen:
    """``manage.py outbox_sender`` on this test's databases, keys and field secret."""
    db = connections["default"].settings_dict
    url = f"postgres://{db['USER']}@{db['HOST']}:{db['PORT']}/{db['NAME']}"
    env = {**os.environ, "WANXIN_ROLE": "platform", "DATABASE_URL": url, "BANK_DATABASE_URL": url + "_unused",
           "BANK_URL": bank_url, "PLATFORM_PRIVATE_KEY": settings.PLATFORM_PRIVATE_KEY,
           "BANK_PUBLIC_KEY": settings.BANK_PUBLIC_KEY, "SECRET_KEY": settings.SECRET_KEY,
           "FIELD_ENCRYPTION_SECRET": settings.FIELD_ENCRYPTION_SECRET,
           "FIELD_ENCRYPTION_KEY_IDS": settings.FIELD_ENCRYPTION_KEY_IDS, "DEPOSITORY_OUTBOX_IDLE_SECONDS": "1"}
    return subprocess.Popen([sys.executable, "manage.py", "outbox_sender", "--senders", "1"], cwd=ROOT, env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, start_new_session=True)


def test_a_sender_process_killed_after_the_bank_committed(customer, handled, live_urls):
    counter = handled("USER_PRE_TRANSACTION")
    with transaction.atomic():
        records = [services.request_create(service_name="USER_PRE_TRANSACTION", payload=freeze_payload(customer, n),
                                          outbox=True, user_no=customer, amount=n) for n in (31_000, 32_000, 33_000)]
    proxy = Swallow(f"{live_urls}/bank")
    threading.Thread(target=proxy.serve_forever, daemon=True).start()
    sender = sender_process(proxy.url)
    try:
        assert proxy.forwarded.wait(60), sender.stdout.read1().decode() if sender.poll() is not None else "no send"
        deadline = time.monotonic() + 30
        while balance(customer) != (FUNDED - 96_000, 96_000) and time.monotonic() < deadline:
            time.sleep(0.05)
        # The bank committed the BATCH; the sender waits for the answer. Kill it there.
        assert balance(customer) == (FUNDED - 96_000, 96_000)
        os.killpg(sender.pid, signal.SIGKILL)
        sender.wait(10)
    finally:
        if sender.poll() is None:
            os.killpg(sender.pid, signal.SIGKILL)
        proxy.release.set()
        proxy.shutdown()
    rows = DepositoryRequest.objects.filter(pk__in=[r.pk for r in records])
    assert set(rows.values_list("status", flat=True)) == {"PENDING"}
    assert all(r.claimed_at is not None and r.attempts == 1 for r in rows)

    # Restarted before the claim lapses: nothing is sent again; after it: once, replayed.
    assert outbox.drain() == {"batches": 0, "items": 0}
    lapsed = timezone.now() - dt.timedelta(seconds=settings.DEPOSITORY_OUTBOX_LEASE_SECONDS + 1)
    rows.update(claimed_at=lapsed)
    assert outbox.drain() == {"batches": 1, "items": 3}
    assert set(rows.values_list("status", "resp_code", "applied_from")) == {("SUCCESS", codes.SUCCESS, "batch")}
    assert BankRequest.objects.using("bank").filter(service_name="BATCH").count() == 2
    assert all(freezes_of(r.request_no) == 1 for r in records)
    assert balance(customer) == (FUNDED - 96_000, 96_000)
    assert sorted(no for no, *_ in counter.seen) == sorted(r.request_no for r in records)
    assert invariants.total_balance() == 0 and invariants.replay_mismatches() == []
