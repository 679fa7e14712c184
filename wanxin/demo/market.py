"""The market ``make run`` shows on first start: seasoned customers with depository accounts,
approved qualifications and money at the bank, and loans at every stage of their life —
waiting for review, collecting (one untouched, one partly funded), full and proposed for
disbursement, and repaying with its first period paid to every investor.

Everything goes through the real services and the bank's real pages, which this module
drives over HTTP as the customers' browsers would (opening accounts, recharging), so every
balance, fund record and ledger row is what the flows themselves produce. It runs once the
servers answer (the platform's calls reach the bank over HTTP) and does nothing when the
demo borrowers already exist. It is a composition root like the launcher: no app imports it.
"""

from __future__ import annotations

import datetime as dt
import re
import time
import zlib
from dataclasses import dataclass
from decimal import Decimal

import httpx
from django.contrib.auth import get_user_model
from django.core.files.uploadedfile import SimpleUploadedFile

from wanxin.accounts import services as accounts
from wanxin.core.identity import resident_id_check_char
from wanxin.depository import outbox
from wanxin.depository import services as depository
from wanxin.funds import services as funds
from wanxin.kyc import services as kyc
from wanxin.lending import domain as lending_domain
from wanxin.lending import services as lending
from wanxin.repayments import services as repayments
from wanxin.repayments.models import RepaymentPlan

TRADE_PASSWORD = "135790"
YUAN = 100  # fen


@dataclass(frozen=True)
class Person:
    username: str
    mobile: str
    role: str
    full_name: str
    birth: str  # YYYYMMDD
    recharge_yuan: int = 0


LENDERS = (
    Person("lender1", "13800000011", "INVESTOR", "Li Na", "19850312", 200_000),
    Person("lender2", "13800000012", "INVESTOR", "Wang Fang", "19790624", 150_000),
    Person("lender3", "13800000013", "INVESTOR", "Zhao Lei", "19920105", 80_000),
)
BORROWERS = (
    Person("grocer", "13800000021", "BORROWER", "Chen Jie", "19800818", 20_000),
    Person("teahouse", "13800000022", "BORROWER", "Liu Yang", "19880402"),
    Person("courier", "13800000023", "BORROWER", "Sun Hao", "19950927"),
    Person("baker", "13800000024", "BORROWER", "Zhou Min", "19830211"),
    Person("florist", "13800000025", "BORROWER", "Wu Ting", "19900730"),
)
TERMS = lending_domain.Terms(borrower_rate=Decimal("0.120000"), investor_rate=Decimal("0.100000"),
                             service_fee_rate=Decimal("0.020000"), window_days=14, min_investment=100 * YUAN,
                             increment=100 * YUAN, per_investor_cap=50_000 * YUAN)


def _id_number(person: Person, n: int) -> str:
    first17 = f"110105{person.birth}{n:03d}"
    return first17 + resident_id_check_char(first17)


def _card_number(n: int) -> str:
    body = f"62220202001122{n:04d}"
    total = 0
    for i, digit in enumerate(int(c) for c in reversed(body)):  # Luhn, check digit appended
        total += (digit * 2 - 9 if digit * 2 > 9 else digit * 2) if i % 2 == 0 else digit
    return body + str((10 - total % 10) % 10)


def _png() -> bytes:
    """A real 1×1 PNG: a scan stand-in for the ID card sides."""
    def chunk(kind: bytes, data: bytes) -> bytes:
        return len(data).to_bytes(4, "big") + kind + data + zlib.crc32(kind + data).to_bytes(4, "big")

    header = (1).to_bytes(4, "big") * 2 + bytes([8, 2, 0, 0, 0])
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(b"\x00\xff\xff\xff"))
            + chunk(b"IEND", b""))


PDF = b"%PDF-1.4\n1 0 obj<</Type/Catalog>>endobj\ntrailer<</Root 1 0 R>>\n%%EOF\n"


class Browser:
    """What a customer's browser does at the bank: the platform's auto-submitting form, then
    the bank's page, confirmed with the trade password."""

    def __init__(self, bank_url: str):
        self.bank_url = bank_url.rstrip("/")

    def confirm(self, record, *, auth: list[str] | None = None) -> None:
        fields = depository.gateway_envelope(record=record)
        with httpx.Client(timeout=30) as client:
            page = client.post(f"{self.bank_url}/gateway", data=fields)
            page.raise_for_status()
            form = {name: _hidden(page.text, name) for name in ("token", "csrfmiddlewaretoken")}
            answer = client.post(f"{self.bank_url}/gateway/confirm", data={
                **form, "action": "confirm", "password": TRADE_PASSWORD, "password_again": TRADE_PASSWORD,
                "auth": auth or []})
            answer.raise_for_status()
        depository.pending_recover(older_than=dt.timedelta(0))  # the platform asks the bank at once
        record.refresh_from_db()
        if record.status != "SUCCESS":
            raise RuntimeError(f"{record.service_name} {record.request_no}: {record.resp_code} {record.resp_msg}")


def _hidden(html: str, name: str) -> str:
    match = re.search(rf'name="{name}" value="([^"]*)"', html)
    if match is None:
        raise RuntimeError(f"the bank's page has no {name} field")
    return match.group(1)


def _customer(browser: Browser, person: Person, n: int):
    user = accounts.demo_customer(person.username, person.mobile, person.role)
    record = funds.account_open(user=user, data=funds.OpenAccountInput(
        full_name=person.full_name, id_number=_id_number(person, n), bank_code="ICBC",
        card_number=_card_number(n), role=person.role))
    browser.confirm(record, auth=list(record.payload["authList"]))
    if person.recharge_yuan:
        browser.confirm(funds.recharge_start(user=user, amount=person.recharge_yuan * YUAN))
    return user


def _qualify(user, person: Person, n: int, reviewer) -> None:
    kyc.application_declare(customer=user, real_name=person.full_name, id_number=_id_number(person, n),
                            annual_income=600_000 * YUAN, assets=2_000_000 * YUAN)
    for kind, name, content, content_type in (("ID_CARD_FRONT", "id-front.png", _png(), "image/png"),
                                              ("ID_CARD_BACK", "id-back.png", _png(), "image/png"),
                                              ("BANK_STATEMENT", "statement.pdf", PDF, "application/pdf")):
        kyc.document_upload(customer=user, kind=kind, upload=SimpleUploadedFile(name, content, content_type))
    application = kyc.application_submit(customer=user)
    kyc.application_approve(operator=reviewer, application_id=application.pk, reason="demo: documents in order")


def _loan(borrower, reviewer, *, yuan: int, months: int, method: str, purpose: str, description: str,
          approve: bool = True):
    project = lending.application_submit(borrower=borrower, data=lending.ApplicationInput(
        amount=yuan * YUAN, months=months, method=method, purpose=purpose, description=description))
    if approve:
        project = lending.project_approve(operator=reviewer, project_id=project.pk, terms=TERMS)
    return project


def _until_bank_full(project, timeout: float = 60.0) -> None:
    """Wait until the bank has the loan as full: the sender that applied its last freeze tells
    the bank (MODIFY_PROJECT) after its own commit, in its own thread."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        project.refresh_from_db(fields=["bank_status"])
        if project.bank_status == lending_domain.FULL:
            return
        time.sleep(0.1)


def seed_market(*, stdout=None, bank_url: str) -> bool:
    """Build the demo market (see the module's docstring); False when it is already there."""
    User = get_user_model()
    if User.objects.filter(username=BORROWERS[0].username).exists():
        return False
    reviewer, finance = User.objects.get(username="reviewer"), User.objects.get(username="finance")
    browser = Browser(bank_url)
    lenders = [_customer(browser, person, 100 + n) for n, person in enumerate(LENDERS)]
    borrowers = []
    for n, person in enumerate(BORROWERS):
        user = _customer(browser, person, 200 + n)
        _qualify(user, person, 200 + n, reviewer)
        borrowers.append(user)
    grocer, teahouse, courier, baker, florist = borrowers
    a, b, c = lenders

    # Repaying, period 1 paid: every investor has received their share.
    grocery = _loan(grocer, reviewer, yuan=60_000, months=12, method="EQUAL_INSTALLMENT",
                    purpose="Cold counter and shelving",
                    description="A second cold counter and new shelves for a neighbourhood grocery in Chaoyang.")
    for investor, yuan in ((a, 30_000), (b, 20_000), (c, 10_000)):
        lending.tender_place(investor=investor, project_id=grocery.pk, amount=yuan * YUAN)
    outbox.flush(60)  # bids are answered at once; their freezes make the loan full
    _until_bank_full(grocery)
    proposal = lending.disbursement_propose(operator=reviewer, project_id=grocery.pk)
    lending.disbursement_approve(operator=finance, disbursement_id=proposal.pk)
    first = RepaymentPlan.objects.filter(project=grocery).order_by("number").first()
    repayments.repay_start(borrower=grocer, plan_id=first.pk)

    # Full, proposed by the reviewer, waiting for a finance officer's approval (maker-checker).
    bakery = _loan(baker, reviewer, yuan=20_000, months=6, method="BULLET", purpose="Deck oven",
                   description="A three-deck oven to double the morning bake.")
    lending.tender_place(investor=a, project_id=bakery.pk, amount=12_000 * YUAN)
    lending.tender_place(investor=b, project_id=bakery.pk, amount=8_000 * YUAN)
    outbox.flush(60)
    _until_bank_full(bakery)
    lending.disbursement_propose(operator=reviewer, project_id=bakery.pk)

    # Collecting: one partly funded, one untouched.
    tea = _loan(teahouse, reviewer, yuan=80_000, months=6, method="EQUAL_PRINCIPAL", purpose="Tea house renovation",
                description="New seating, a tea bar and air conditioning for a tea house near Houhai.")
    lending.tender_place(investor=a, project_id=tea.pk, amount=25_000 * YUAN)
    lending.tender_place(investor=c, project_id=tea.pk, amount=15_000 * YUAN)
    outbox.flush(60)
    _loan(courier, reviewer, yuan=30_000, months=3, method="INTEREST_FIRST", purpose="Delivery van",
          description="A used electric van for same-day parcel delivery.")
    # Waiting for a loan reviewer.
    _loan(florist, reviewer, yuan=15_000, months=6, method="EQUAL_INSTALLMENT", purpose="Cold room",
          description="A small cold room to keep flowers fresh through the week.", approve=False)
    if stdout is not None:
        stdout.write("Demo market: 3 lenders (lender1–3), 5 borrowers (grocer, teahouse, courier, baker, florist), "
                     f"password {accounts.DEMO_CUSTOMER_PASSWORD}, bank trade password {TRADE_PASSWORD}\n")
    return True
