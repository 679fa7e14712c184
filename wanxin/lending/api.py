"""JSON API of lending (mounted at /api/v1/loans/). Amounts are integer fen; rates decimal
strings. The hall and loan details are public; applying and investing need a customer."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

from django.utils.translation import gettext as _
from ninja import Field, Query, Router, Schema, Status

from wanxin import inputs
from wanxin.accounts.auth import customer_auth
from wanxin.core.errors import NotFound, WanxinError

from . import domain, labels, selectors, services

router = Router(tags=["loans"])
MAX_PAGE_SIZE = 50


class ErrorOut(Schema):
    code: str
    message: str


class ProjectOut(Schema):
    id: int
    project_no: str
    name: str
    description: str
    amount: int
    raised: int
    remaining: int
    progress_percent: int
    months: int
    method: str
    investor_rate: Decimal | None
    status: str
    min_investment: int | None
    increment: int | None
    per_investor_cap: int | None
    collect_until: dt.datetime | None
    published_at: dt.datetime | None


class HallOut(Schema):
    items: list[ProjectOut]
    page: int
    pages: int
    count: int = Field(description="matching loans; with a search, at most 1000 (then `capped`)")
    capped: bool = Field(False, description="true when a search matched more loans than `count`")


class HallIn(Schema):
    q: str = Field("", max_length=200)
    status: str = ""
    method: str = ""
    rate_min: inputs.Rate | None = Field(None, description="annual rate as a fraction (0.1 = 10%)")
    rate_max: inputs.Rate | None = Field(None, description="annual rate as a fraction (0.1 = 10%)")
    months_min: inputs.SmallInt | None = None
    months_max: inputs.SmallInt | None = None
    amount_min: inputs.Fen | None = Field(None, description="fen")
    amount_max: inputs.Fen | None = Field(None, description="fen")
    sort: str = Field("newest", description=", ".join(selectors.SORTS))
    page: inputs.SmallInt = 1
    page_size: inputs.SmallInt = 20


class TenderOut(Schema):
    investor: str = Field(description="masked")
    amount: int
    status: str
    created_at: dt.datetime


class PeriodOut(Schema):
    number: int
    principal: int
    interest: int
    payment: int
    remaining: int


class DetailOut(ProjectOut):
    tenders: list[TenderOut]
    preview: list[PeriodOut] = Field(description="the schedule of the chosen amount at the investor rate")


class QuoteOut(Schema):
    amount: int
    interest: int
    total: int
    periods: list[PeriodOut]


class ApplicationIn(Schema):
    amount: Any = Field(description="integer fen")
    months: Any
    method: str = Field(description=" | ".join(domain.METHODS))
    purpose: str
    description: str = ""


class MyProjectOut(ProjectOut):
    review_reason: str
    miscarry_reason: str


class TenderIn(Schema):
    amount: Any = Field(description="integer fen")


class MyTenderOut(Schema):
    id: int
    project_id: int
    project_no: str
    amount: int
    status: str
    fail_reason: str
    created_at: dt.datetime


def _my_tender(t) -> dict:
    return {"id": t.id, "project_id": t.project_id, "project_no": t.project.project_no, "amount": t.amount,
            "status": t.status, "fail_reason": t.fail_reason, "created_at": t.created_at}


@router.get("/projects", response=HallOut, auth=None)
def hall(request, filters: Query[HallIn]):
    """The financing hall: filters, sorting, pagination and full-text search (``q``)."""
    rows = selectors.hall(selectors.HallFilter(
        q=filters.q, status=filters.status, method=filters.method, rate_min=filters.rate_min,
        rate_max=filters.rate_max, months_min=filters.months_min, months_max=filters.months_max,
        amount_min=filters.amount_min, amount_max=filters.amount_max, sort=filters.sort))
    page = selectors.HallPaginator(rows, max(1, min(filters.page_size, MAX_PAGE_SIZE)),
                                   searching=bool(selectors.search_terms(filters.q))).get_page(filters.page)
    return {"items": list(page), "page": page.number, "pages": page.paginator.num_pages,
            "count": page.paginator.count, "capped": page.paginator.capped}


def _public(project_id: int):
    project = selectors.public_project(project_id)
    if project is None:
        raise NotFound("No such loan.", code="not_found")
    return project


def _amount(project, amount: int | None) -> int:
    return amount if amount is not None else (project.min_investment or project.amount)


@router.get("/projects/{project_id}", response={200: DetailOut, 400: ErrorOut, 404: ErrorOut}, auth=None)
def detail(request, project_id: int, amount: int | None = None):
    project = _public(project_id)
    try:
        preview = selectors.schedule_preview(project, _amount(project, amount))
    except ValueError as exc:
        raise WanxinError(str(exc), code="amount") from exc
    return {**ProjectOut.model_validate(project, from_attributes=True).model_dump(), "tenders": selectors.masked_tenders(project),
            "preview": preview}


@router.get("/projects/{project_id}/quote", response={200: QuoteOut, 400: ErrorOut, 403: ErrorOut,
                                                       404: ErrorOut, 409: ErrorOut}, auth=customer_auth)
def quote(request, project_id: int, amount: int):
    """Check a bid against every rule and show its expected returns, reserving nothing."""
    project = services.tender_check(investor=request.auth, project_id=project_id, amount=amount)
    return selectors.quote(project, amount)


@router.post("/projects/{project_id}/tenders", response={201: MyTenderOut, 400: ErrorOut, 403: ErrorOut,
                                                          404: ErrorOut, 409: ErrorOut}, auth=customer_auth)
def invest(request, project_id: int, body: TenderIn):
    """Reserve the amount on the loan and ask the bank to freeze it: answered at once with the
    tender (``PENDING`` while the bank confirms; follow it at ``/tenders/{id}/status``). An
    ``Idempotency-Key`` header makes a resend return the first tender; the same key with
    another loan or amount is refused (409 ``key_reused``)."""
    tender = services.tender_place_once(investor=request.auth, project_id=project_id, amount=body.amount,
                                        token=request.headers.get("Idempotency-Key", "").strip())
    return Status(201, _my_tender(tender))  # as answered: with its loan, no further query


class TenderStatusOut(Schema):
    id: int
    status: str = Field(description="PENDING while the bank confirms; FROZEN confirmed; FAILED refused")
    final: bool = Field(description="false while the bank has not answered yet: ask again")
    label: str
    message: str = Field(description="what to tell the investor, in their language")


@router.get("/tenders/{tender_id}/status", response={200: TenderStatusOut, 404: ErrorOut}, auth=customer_auth)
def tender_status(request, tender_id: int):
    """A bid's progress: "confirming" until the bank's answer to its freeze, then confirmed or
    refused (with the bank's reason). The investor's own tenders only."""
    tender = selectors.tender_owned(request.auth, tender_id)
    if tender is None:
        raise NotFound(_("No such investment."), code="not_found")
    return labels.tender_progress(tender)


@router.get("/tenders", response=list[MyTenderOut], auth=customer_auth)
def my_tenders(request):
    return [_my_tender(t) for t in selectors.tenders_of(request.auth)[:200]]


@router.post("/applications", response={201: MyProjectOut, 400: ErrorOut, 403: ErrorOut, 409: ErrorOut},
             auth=customer_auth)
def apply(request, body: ApplicationIn):
    project = services.application_submit(borrower=request.auth, data=services.ApplicationInput(
        amount=body.amount, months=body.months, method=body.method, purpose=body.purpose,
        description=body.description))
    return Status(201, project)


@router.get("/applications", response=list[MyProjectOut], auth=customer_auth)
def my_applications(request):
    return list(selectors.projects_of(request.auth)[:100])
