"""JSON API of the funds app (mounted by wanxin/api.py at /api/v1/funds/).

Amounts are integer fen in and out; requests that need the customer at the bank answer
with ``gateway_url``, the platform page that carries them there."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.http import HttpRequest
from django.urls import reverse
from ninja import Field, Query, Router, Schema, Status

from wanxin.accounts.auth import customer_auth
from wanxin.core.errors import NotFound
from wanxin.depository.models import DepositoryRequest

from . import exports, selectors, services
from .domain import EVENT_TYPE_BY_CODE
from .models import FundRecord

router = Router(tags=["funds"], auth=customer_auth)


# -- schemas --------------------------------------------------------------------------------


class ErrorOut(Schema):
    code: str
    message: str


class AccountOut(Schema):
    status: str
    user_no: str
    full_name: str = Field(description="masked")
    id_number: str = Field(description="masked")
    card_number: str = Field(description="masked")
    bank_code: str
    role: str
    auth_list: list[str]
    request_no: str
    fail_reason: str
    opened_at: dt.datetime | None


class OpenAccountIn(Schema):
    full_name: str
    id_number: str
    bank_code: str
    card_number: str
    role: str = ""


class GatewayOut(Schema):
    request_no: str
    service: str
    status: str
    amount: int | None = None
    commission: int | None = None
    gateway_url: str


class AmountIn(Schema):
    amount: Any = Field(None, description="integer fen (give this or amount_yuan)")
    amount_yuan: str | None = Field(None, description='yuan as typed, e.g. "1000.50"')


class QuoteOut(Schema):
    amount: int
    commission: int
    net: int


class BalanceOut(Schema):
    available: int
    frozen: int
    total: int
    source: str
    as_of: dt.datetime


class RequestOut(Schema):
    request_no: str
    service: str
    status: str
    amount: int | None
    resp_code: str
    resp_msg: str
    created_at: dt.datetime
    finished_at: dt.datetime | None


class RecordOut(Schema):
    id: int
    type: str
    type_label: str
    type_label_zh: str
    amount: int
    available_after: int
    frozen_after: int
    request_no: str
    remark: str
    created_at: dt.datetime


class RecordPageOut(Schema):
    items: list[RecordOut]
    next_cursor: str | None
    prev_cursor: str | None


class RecordQuery(Schema):
    type: list[str] = Field(default_factory=list, description="one or more types (repeat or comma-separate)")
    date_from: str | None = Field(None, description="YYYY-MM-DD, Beijing time, inclusive")
    date_to: str | None = Field(None, description="YYYY-MM-DD, Beijing time, inclusive")


class TypeTotalOut(Schema):
    type: str
    label: str
    label_zh: str
    count: int
    total: int
    money_in: int
    money_out: int


class MonthOut(Schema):
    month: str
    money_in: int
    money_out: int


class StatisticsOut(Schema):
    totals: list[TypeTotalOut]
    months: list[MonthOut]
    money_in: int
    money_out: int


# -- helpers -----------------------------------------------------------------------------------


def _account_out(account) -> dict:
    return {
        "status": account.status, "user_no": account.user_no, "full_name": account.masked_name,
        "id_number": account.masked_id_number, "card_number": account.masked_card_number,
        "bank_code": account.bank_code, "role": account.role, "auth_list": account.auth_list,
        "request_no": account.request_no, "fail_reason": account.fail_reason, "opened_at": account.opened_at,
    }


def _gateway_out(request: HttpRequest, record: DepositoryRequest) -> dict:
    path = reverse("funds:go", args=[record.request_no])
    return {"request_no": record.request_no, "service": record.service_name, "status": record.status,
            "amount": record.amount, "commission": record.payload.get("commission"),
            "gateway_url": request.build_absolute_uri(path)}


def _record_out(record: FundRecord) -> dict:
    kind = EVENT_TYPE_BY_CODE[record.type]
    return {"id": record.pk, "type": record.type, "type_label": kind.label, "type_label_zh": kind.label_zh,
            "amount": record.amount, "available_after": record.available_after, "frozen_after": record.frozen_after,
            "request_no": record.request_no, "remark": record.remark, "created_at": record.created_at}


def _filters(query: RecordQuery) -> selectors.RecordFilter:
    return selectors.record_filter(types=query.type, date_from=query.date_from, date_to=query.date_to)


def _idempotency_key(request: HttpRequest) -> str:
    return request.headers.get("Idempotency-Key", "").strip()


# -- account --------------------------------------------------------------------------------------


@router.get("/account", response={200: AccountOut, 404: ErrorOut})
def account_get(request):
    account = selectors.account_for(request.auth)
    if account is None:
        raise NotFound("No depository account yet.", code="no_account")
    return _account_out(account)


@router.post("/account", response={201: GatewayOut, 400: ErrorOut, 409: ErrorOut})
def account_open(request, body: OpenAccountIn):
    """Start opening the depository account; open ``gateway_url`` in the customer's browser."""
    record = services.account_open(user=request.auth, data=services.OpenAccountInput(**body.dict()))
    return Status(201, _gateway_out(request, record))


@router.get("/balance", response={200: BalanceOut, 409: ErrorOut})
def balance(request):
    account = services.open_account_required(request.auth)
    b = services.balance_get(account=account)
    return {"available": b.available, "frozen": b.frozen, "total": b.total, "source": b.source, "as_of": b.as_of}


# -- recharge and withdraw ---------------------------------------------------------------------------


@router.post("/recharge", response={201: GatewayOut, 400: ErrorOut, 409: ErrorOut})
def recharge(request, body: AmountIn):
    amount = services.parse_amount(yuan=body.amount_yuan, fen=body.amount)
    record = services.submit_once(user=request.auth, token=_idempotency_key(request),
                                  request={"service": "RECHARGE", "amount": amount},
                                  start=lambda: services.recharge_start(user=request.auth, amount=amount))
    return Status(201, _gateway_out(request, record))


@router.get("/withdraw/quote", response={200: QuoteOut, 400: ErrorOut})
def withdraw_quote(request, amount: int | None = None, amount_yuan: str | None = None):
    """The commission a withdrawal of this amount costs, before confirming it."""
    quote = services.withdraw_quote(amount=services.parse_amount(yuan=amount_yuan, fen=amount))
    return {"amount": quote.amount, "commission": quote.commission, "net": quote.net}


@router.post("/withdraw", response={201: GatewayOut, 400: ErrorOut, 409: ErrorOut})
def withdraw(request, body: AmountIn):
    amount = services.parse_amount(yuan=body.amount_yuan, fen=body.amount)
    record = services.submit_once(user=request.auth, token=_idempotency_key(request),
                                  request={"service": "WITHDRAW", "amount": amount},
                                  start=lambda: services.withdraw_start(user=request.auth, amount=amount))
    return Status(201, _gateway_out(request, record))


@router.get("/requests/{request_no}", response={200: RequestOut, 404: ErrorOut})
def request_get(request, request_no: str):
    record = selectors.owned_gateway_request(request.auth, request_no)
    return {"request_no": record.request_no, "service": record.service_name, "status": record.status,
            "amount": record.amount, "resp_code": record.resp_code, "resp_msg": record.resp_msg,
            "created_at": record.created_at, "finished_at": record.finished_at}


# -- fund records -------------------------------------------------------------------------------------


@router.get("/records", response={200: RecordPageOut, 400: ErrorOut})
def records(request, query: Query[RecordQuery], after: str | None = None, before: str | None = None,
            limit: int = selectors.PAGE_SIZE):
    """Newest first; follow ``next_cursor`` with ``after=`` for older records."""
    page = selectors.records_page(request.auth, _filters(query), after=after, before=before, limit=limit)
    return {"items": [_record_out(r) for r in page.items], "next_cursor": page.next_cursor,
            "prev_cursor": page.prev_cursor}


@router.get("/records.csv", response={200: None, 400: ErrorOut})
def records_csv(request, query: Query[RecordQuery]):
    """CSV of the filtered records (amounts in yuan), streamed."""
    return exports.csv_response(request.auth, _filters(query))


@router.get("/records/{record_id}", response={200: RecordOut, 404: ErrorOut})
def record_get(request, record_id: int):
    return _record_out(selectors.record_get(request.auth, record_id))


@router.get("/statistics", response={200: StatisticsOut, 400: ErrorOut})
def statistics(request, query: Query[RecordQuery]):
    stats = selectors.statistics(request.auth, _filters(query))
    return {
        "totals": [{"type": t.code, "label": t.label, "label_zh": t.label_zh, "count": t.count, "total": t.total,
                    "money_in": t.money_in, "money_out": t.money_out} for t in stats.totals],
        "months": [{"month": m, "money_in": i, "money_out": o} for m, i, o in stats.months],
        "money_in": stats.money_in, "money_out": stats.money_out,
    }
