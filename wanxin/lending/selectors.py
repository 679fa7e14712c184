"""Reads of lending: the product, a borrower's open application, the financing hall with
filters, sorting and PostgreSQL full-text search, a loan's detail and the bid quote."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from django.contrib.postgres.search import SearchQuery, SearchVector
from django.db.models import Q, QuerySet, Sum

from wanxin.funds.models import DepositoryAccount
from wanxin.repayments import domain as schedules

from . import domain
from .models import Disbursement, LoanProduct, Project, Tender

SORTS = {
    "newest": ("-published_at", "-id"),
    "rate": ("investor_rate", "-id"),
    "-rate": ("-investor_rate", "-id"),
    "term": ("months", "-id"),
    "-term": ("-months", "-id"),
    "amount": ("amount", "-id"),
    "-amount": ("-amount", "-id"),
}


def product_default() -> LoanProduct:
    product, _ = LoanProduct.objects.get_or_create(code="STANDARD", defaults={"name": "Standard loan"})
    return product


def open_project_of(borrower) -> Project | None:
    return Project.objects.filter(borrower=borrower, status__in=domain.OPEN_STATUSES).first()


def credit_in_use(borrower) -> int:
    """The amount of the borrower's loans that count against their limit."""
    return (Project.objects.filter(borrower=borrower, status__in=[*domain.OPEN_STATUSES, domain.REPAYING])
            .aggregate(s=Sum("amount"))["s"] or 0)


def user_no_of(user_id: int) -> str:
    return DepositoryAccount.objects.filter(user_id=user_id).values_list("user_no", flat=True).first() or ""


def user_nos_of(user_ids: set[int]) -> dict[int, str]:
    """Customer id → depository userNo, for those with an account, in one query."""
    return dict(DepositoryAccount.objects.filter(user_id__in=user_ids).values_list("user_id", "user_no"))


def projects_of(borrower) -> QuerySet[Project]:
    return Project.objects.filter(borrower=borrower).order_by("-id")


def tender_with_project(tender_id: int) -> Tender:
    """A tender as it is now, with its loan, in one query (the bid's answer)."""
    return Tender.objects.select_related("project").get(pk=tender_id)


def tenders_of(investor) -> QuerySet[Tender]:
    return Tender.objects.filter(investor=investor).select_related("project").order_by("-id")


@dataclass(frozen=True)
class HallFilter:
    q: str = ""
    status: str = ""
    method: str = ""
    rate_min: Decimal | None = None
    rate_max: Decimal | None = None
    months_min: int | None = None
    months_max: int | None = None
    amount_min: int | None = None
    amount_max: int | None = None
    sort: str = "newest"


def hall(f: HallFilter) -> QuerySet[Project]:
    """Published loans, filtered and sorted; ``q`` searches name and description with
    PostgreSQL full-text search (the ``simple`` configuration, so Chinese words typed as
    they appear still match as prefixes of the name through the substring fallback)."""
    rows = Project.objects.filter(status__in=domain.PUBLIC_STATUSES)
    if f.status in domain.PUBLIC_STATUSES:
        rows = rows.filter(status=f.status)
    if f.method in domain.METHODS:
        rows = rows.filter(method=f.method)
    if f.rate_min is not None:
        rows = rows.filter(investor_rate__gte=f.rate_min)
    if f.rate_max is not None:
        rows = rows.filter(investor_rate__lte=f.rate_max)
    if f.months_min is not None:
        rows = rows.filter(months__gte=f.months_min)
    if f.months_max is not None:
        rows = rows.filter(months__lte=f.months_max)
    if f.amount_min is not None:
        rows = rows.filter(amount__gte=f.amount_min)
    if f.amount_max is not None:
        rows = rows.filter(amount__lte=f.amount_max)
    q = " ".join(f.q.split())[:100]
    if q:
        vector = SearchVector("name", "description", config="simple")
        rows = rows.annotate(search=vector).filter(
            Q(search=SearchQuery(q, config="simple", search_type="websearch")) | Q(name__icontains=q))
    return rows.order_by(*SORTS.get(f.sort, SORTS["newest"]))


def public_project(project_id: int) -> Project | None:
    return Project.objects.filter(pk=project_id, status__in=domain.PUBLIC_STATUSES).first()


@dataclass(frozen=True)
class MaskedTender:
    investor: str
    amount: int
    status: str
    created_at: object


def masked_tenders(project: Project, *, limit: int = 100) -> list[MaskedTender]:
    rows = (Tender.objects.filter(project=project, status__in=domain.LIVE_TENDER_STATUSES)
            .select_related("investor").order_by("-id")[:limit])
    return [MaskedTender(domain.mask_name(t.investor.username), t.amount, t.status, t.created_at) for t in rows]


def schedule_preview(project: Project, amount: int) -> list[schedules.Period]:
    """The investor's side of ``amount`` fen at the investor rate (a preview; the plans
    generated at disbursement split the borrower's schedule exactly)."""
    return schedules.schedule(amount, project.investor_rate or Decimal(0), project.months, project.method)


@dataclass(frozen=True)
class Quote:
    amount: int
    interest: int
    total: int
    periods: list


def quote(project: Project, amount: int) -> Quote:
    periods = schedule_preview(project, amount)
    totals = schedules.totals(periods)
    return Quote(amount=amount, interest=totals.interest, total=totals.payment, periods=periods)


def review_queue(status: str = "") -> QuerySet[Project]:
    statuses = [status] if status in domain.PROJECT_STATUSES else [domain.PENDING_REVIEW, domain.COLLECTING,
                                                                     domain.FULL]
    return Project.objects.filter(status__in=statuses).select_related("borrower").order_by("id")


def disbursements_of(project: Project) -> list[Disbursement]:
    return list(project.disbursements.select_related("proposed_by", "approved_by").order_by("-id"))


def pending_disbursements() -> QuerySet[Disbursement]:
    return Disbursement.objects.filter(status=Disbursement.Status.PROPOSED).select_related("project", "proposed_by")


# -- the figures lending passes to the risk rules (wanxin.risk.services.rules_check) -------------


def risk_figures_application(borrower, amount) -> dict:
    """A loan application's figures: the amount asked, the borrower's loans running (applied,
    collecting, full or repaying) and the credit they use."""
    running = Project.objects.filter(borrower=borrower, status__in=[*domain.OPEN_STATUSES, domain.REPAYING]).count()
    return {"amount": amount, "loans_running": running, "credit_in_use": credit_in_use(borrower)}


def risk_figures_bid(project: Project, investor, amount) -> dict:
    """A bid's figures: its amount, the loan's amount and what the investor already holds in it."""
    holding = (Tender.objects.filter(project=project, investor=investor, status__in=domain.LIVE_TENDER_STATUSES)
               .aggregate(s=Sum("amount"))["s"] or 0)
    # An amount the bid rules will refuse anyway is not the risk rules' business.
    amount = amount if type(amount) is int and amount > 0 else None
    return {"amount": amount, "loan_amount": project.amount, "investor_holding": holding,
            "project_no": project.project_no}


def featured_collecting(*, limit: int = 3) -> list[Project]:
    """Loans still raising money for the home page: closest to full first, then newest."""
    return list(Project.objects.filter(status=domain.COLLECTING)
                .order_by("-raised", "-published_at", "-id")[:limit])


def lent_total() -> int:
    """Fen lent through the platform: the amounts of loans paid out to their borrowers."""
    total = Project.objects.filter(status__in=(domain.REPAYING, domain.FINISHED)).aggregate(t=Sum("amount"))["t"]
    return total or 0
