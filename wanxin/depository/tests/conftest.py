"""Fixtures for the platform side of the protocol, always against the live server."""

from __future__ import annotations

import datetime as dt
import html
import re
import threading
from collections.abc import Iterator
from contextlib import ExitStack

import httpx
import pytest
from django.conf import settings
from django.contrib.auth import get_user_model
from django.db import transaction
from django.test import Client
from django.utils import timezone

from wanxin.bank import gateway
from wanxin.bank.models import BankRequest, Freeze, Notification
from wanxin.bank.tests.helpers import TRADE_PASSWORD, open_account, recharge
from wanxin.depository import results, services
from wanxin.depository.models import DepositoryRequest
from wanxin.protocol import messages
from wanxin.testing.bank import bank_balance as balance

CUSTOMER = "cust1"
FUNDED = 1_000_000


class Counter:
    """A result handler that remembers every record it was called with (any thread)."""

    def __init__(self) -> None:
        self.seen: list[tuple[str, str, str]] = []
        self._lock = threading.Lock()

    def __call__(self, record: DepositoryRequest) -> None:
        with self._lock:
            self.seen.append((record.request_no, record.status, record.applied_from))

    def calls_for(self, request_no: str) -> list[tuple[str, str, str]]:
        return [s for s in self.seen if s[0] == request_no]


def _untouched(record: DepositoryRequest) -> None:
    """The records of these tests serve no business object: nothing to do."""


@pytest.fixture(autouse=True)
def ownerless_routes() -> Iterator[None]:
    """The records these tests create have no owner (``create`` below): route their results
    to a no-op, so that only a result with no route at all is an error."""
    with results.results_routed({(results.NO_OWNER, name): _untouched for name in messages.SERVICE_FIELDS}):
        yield


@pytest.fixture
def handled(ownerless_routes) -> Iterator:
    """``handled("RECHARGE")`` routes the results of this test's (ownerless) records of that
    service to a counting handler, until the end of the test."""
    with ExitStack() as stack:

        def register(service_name: str) -> Counter:
            counter = Counter()
            stack.enter_context(results.results_routed({(results.NO_OWNER, service_name): counter}))
            return counter

        yield register


@pytest.fixture
def customer(live_urls, platform_key) -> str:
    """An open customer at the bank, every biz type authorised, with FUNDED fen available."""
    assert open_account(platform_key, CUSTOMER, id_suffix="00000101").status == "SUCCESS"
    assert recharge(platform_key, CUSTOMER, FUNDED).status == "SUCCESS"
    assert balance(CUSTOMER) == (FUNDED, 0)
    return CUSTOMER


def logged_in(client: httpx.Client, user) -> httpx.Client:
    """Give an httpx client the session cookie of ``user`` (as a browser after logging in)."""
    django_client = Client()
    django_client.force_login(user)
    name = settings.SESSION_COOKIE_NAME
    client.cookies.set(name, django_client.cookies[name].value)
    return client


def platform_user(username: str, user_no: str):
    """The platform customer whose depository userNo is ``user_no``."""
    return get_user_model().objects.create_user(
        username=username, password="correct-horse-battery-9", mobile=f"139{abs(hash(username)) % 10**8:08d}",
        role="BOTH", user_no=user_no)


@pytest.fixture
def http() -> Iterator[httpx.Client]:
    """The browser of the platform customer who owns userNo ``CUSTOMER`` (gateway hand-off
    pages are served to their owner only, PROTOCOL §4a); its language header asks for English,
    the pages' texts checked here being the English ones."""
    with httpx.Client(timeout=30, headers={"Accept-Language": "en"}) as client:
        yield logged_in(client, platform_user("cust1-owner", CUSTOMER))


@pytest.fixture
def anonymous() -> Iterator[httpx.Client]:
    with httpx.Client(timeout=30, headers={"Accept-Language": "en"}) as client:
        yield client


# -- bank-side observations -----------------------------------------------------------------


def bank_requests(request_no: str) -> list[BankRequest]:
    return list(BankRequest.objects.using("bank").filter(request_no=request_no))


def freezes_of(request_no: str) -> int:
    return Freeze.objects.using("bank").filter(request__request_no=request_no).count()


def queries_about(request_no: str) -> list[BankRequest]:
    return list(BankRequest.objects.using("bank").filter(service_name="QUERY_REQUEST",
                                                        req_data__queryRequestNo=request_no).order_by("id"))


def notification(request_no: str) -> Notification:
    return Notification.objects.using("bank").get(request_no=request_no)


# -- platform-side helpers ------------------------------------------------------------------


def create(service_name: str, payload: dict, *, user_no: str = "", amount: int | None = None) -> DepositoryRequest:
    """The platform's local commit, with no bank call after it (yet)."""
    with transaction.atomic():
        return services.request_create(service_name=service_name, payload=payload, user_no=user_no, amount=amount)


def freeze_payload(user_no: str, amount: int) -> dict:
    return {"userNo": user_no, "bizType": "ALLOCATION", "amount": amount, "remark": "test freeze"}


def recharge_record(live_url: str, user_no: str, amount: int) -> DepositoryRequest:
    return create("RECHARGE", {"userNo": user_no, "amount": amount,
                               "callbackUrl": f"{live_url}/depository/callback"}, user_no=user_no, amount=amount)


def finish_at_bank(record: DepositoryRequest, *, password: str = TRADE_PASSWORD, action: str = "confirm") -> BankRequest:
    """The customer takes the platform's envelope to the bank and confirms there."""
    page = gateway.open_request(services.gateway_envelope(record=record))
    assert not page.finished, page.req.response
    page = gateway.confirm(page.req.pk, {"action": action, "password": password})
    page.req.refresh_from_db()
    return page.req


def age(record: DepositoryRequest, *, created: dt.timedelta | None = None, signed: dt.timedelta | None = None) -> None:
    """Move a record's clocks into the past (what the recovery job would see later)."""
    now = timezone.now()
    fields = {}
    if created is not None:
        fields["created_at"] = now - created
    if signed is not None:
        fields["gateway_signed_at"] = now - signed
    DepositoryRequest.objects.filter(pk=record.pk).update(**fields)
    record.refresh_from_db()


class ForwardThen(httpx.BaseTransport):
    """A network edge that forwards to the real bank and then loses chosen answers.

    ``lose`` maps a 1-based call number to what happens to its answer: ``"timeout"``
    (the bank did the work, the platform never hears) or an HTTP status the "proxy"
    returns instead of the bank's answer. ``block`` maps call numbers to a status the
    proxy returns without forwarding at all.
    """

    def __init__(self, *, lose: dict[int, str | int] | None = None, block: dict[int, int] | None = None):
        self.lose, self.block = lose or {}, block or {}
        self.bodies: list[bytes] = []

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        request.read()
        self.bodies.append(request.content)
        call = len(self.bodies)
        if call in self.block:
            return httpx.Response(self.block[call], text="<html>Bad Gateway</html>", request=request)
        with httpx.HTTPTransport() as inner:  # BankClient closes its transport after every send
            response = inner.handle_request(request)
            response.read()
        outcome = self.lose.get(call)
        if outcome == "timeout":
            response.close()
            raise httpx.ReadTimeout("the bank answered too late", request=request)
        if isinstance(outcome, int):
            response.close()
            return httpx.Response(outcome, text="<html>Gateway Timeout</html>", request=request)
        return response


# -- the customer's browser -----------------------------------------------------------------

_FORM_RE = re.compile(r'<form id="to-bank" method="post" action="([^"]+)"[^>]*>(.*?)</form>', re.S)
_INPUT_RE = re.compile(r'<input type="hidden" name="([^"]+)" value="([^"]*)">')
_TOKEN_RE = re.compile(r'name="token" value="([^"]+)"')


def handoff_page(http: httpx.Client, live_url: str, request_no: str) -> tuple[httpx.Response, str, dict[str, str]]:
    """Load the platform's hand-off page; returns the response, the form action and its fields."""
    response = http.get(f"{live_url}/depository/gateway/{request_no}")
    found = _FORM_RE.search(response.text)
    if found is None:
        return response, "", {}
    fields = {html.unescape(k): html.unescape(v) for k, v in _INPUT_RE.findall(found.group(2))}
    return response, html.unescape(found.group(1)), fields


def submit_to_bank(http: httpx.Client, action: str, fields: dict[str, str]) -> BankRequest:
    """What the auto-submitting form does, then the customer confirms on the bank's page."""
    response = http.post(action, data=fields)
    assert response.status_code == 200, response.text
    token = _TOKEN_RE.search(response.text)
    assert token is not None, response.text
    req = gateway.request_for_token(html.unescape(token.group(1)))
    page = gateway.confirm(req.pk, {"action": "confirm", "password": TRADE_PASSWORD})
    page.req.refresh_from_db()
    return page.req
