"""Reads of lending: the product, a borrower's open application, the financing hall with
filters, sorting and substring search (pg_trgm), a loan's detail and the bid quote."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from functools import cached_property

from django.contrib.postgres.fields import ArrayField
from django.core.paginator import Paginator
from django.db.models import Q, QuerySet, Sum, TextField
from django.db.models.expressions import RawSQL

from wanxin.core import schedules
from wanxin.funds.models import DepositoryAccount
from wanxin.kyc.selectors import approved_credit

from . import domain
from .models import Disbursement, LoanProduct, Project, Tender

MAX_TERMS = 8
SEARCH_COUNT_CAP = 1000
TRIGRAM = 3  # pg_trgm finds substrings of at least this many characters through its index
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


@dataclass(frozen=True)
class BorrowingLimit:
    limit: int  # fen, from the approved KYC
    in_use: int  # fen, the borrower's live loans
    available: int  # fen, what an application may still ask for


def borrowing_limit(borrower) -> BorrowingLimit | None:
    """The borrower's limit and what is left of it; None before KYC is approved."""
    credit = approved_credit(borrower.pk)
    if credit is None:
        return None
    in_use = credit_in_use(borrower)
    return BorrowingLimit(limit=credit[1], in_use=in_use, available=max(credit[1] - in_use, 0))


def user_no_of(user_id: int) -> str:
    return DepositoryAccount.objects.filter(user_id=user_id).values_list("user_no", flat=True).first() or ""


def user_nos_of(user_ids: set[int]) -> dict[int, str]:
    """Customer id → depository userNo, for those with an account, in one query."""
    return dict(DepositoryAccount.objects.filter(user_id__in=user_ids).values_list("user_id", "user_no"))


def projects_of(borrower) -> QuerySet[Project]:
    return Project.objects.filter(borrower=borrower).order_by("-id")


def tender_owned(investor, tender_id: int) -> Tender | None:
    """The investor's own tender (None for anyone else's: its status is theirs alone)."""
    return Tender.objects.filter(pk=tender_id, investor=investor).first()


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
    """Published loans, filtered and sorted; every word of ``q`` must appear in the name or
    the description, in any case, anywhere (pg_trgm GIN indexes serve words of three or more
    characters; see migration 0004 and docs/benchmarks.md)."""
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
    for term in search_terms(f.q):
        if len(term) < TRIGRAM:
            # No trigram to look up: the index of single characters and pairs narrows first.
            rows = rows.alias(short_grams=SEARCH_GRAMS).filter(short_grams__contains=[term.upper()])
        rows = rows.filter(Q(name__icontains=term) | Q(description__icontains=term))
    return rows.order_by(*SORTS.get(f.sort, SORTS["newest"]))


# The distinct characters and character pairs of a loan's name and description, upper-cased:
# a stored generated column with a GIN index that the model does not know (migration 0004).
SEARCH_GRAMS = RawSQL('"lending_project"."search_grams"', [], output_field=ArrayField(TextField()))


class HallPaginator(Paginator):
    """Pages of the hall. With a search it counts at most ``SEARCH_COUNT_CAP`` matches
    (``capped`` then says there are more): an exact count of a common word ("renovation" in
    12,000 loans) reads every match, which alone took longer than the page's budget."""

    def __init__(self, object_list, per_page, *, searching: bool) -> None:
        super().__init__(object_list, per_page)
        self.searching = searching
        self.capped = False

    @cached_property
    def count(self) -> int:
        if not self.searching:
            return super().count
        found = self.object_list.order_by()[:SEARCH_COUNT_CAP + 1].count()
        self.capped = found > SEARCH_COUNT_CAP
        return min(found, SEARCH_COUNT_CAP)


def hall_page(f: HallFilter, page_size: int, page: object):
    """One page of the hall for ``f`` (its paginator says whether the count is capped)."""
    return HallPaginator(hall(f), page_size, searching=bool(search_terms(f.q))).get_page(page)


def search_terms(q: str) -> list[str]:
    """The words of a search, each to be found somewhere in the name or the description
    (a substring, so Chinese needs no word breaking: "茶" finds "福州茶馆")."""
    return list(dict.fromkeys(q[:100].split()))[:MAX_TERMS]


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


def risk_figures_bid(project: Project, amount, *, holding: int) -> dict:
    """A bid's figures: its amount, the loan's amount and what the investor already holds in it
    (``holding``: their live tenders' sum, read by the bid under its account lock)."""
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
