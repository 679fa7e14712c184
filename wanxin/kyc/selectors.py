"""Reads of the kyc app."""

from __future__ import annotations

from django.db.models import Prefetch, Q, QuerySet

from wanxin.accounts.models import User

from . import domain
from .models import KycApplication, KycDocument, KycReview


def application_for_customer(customer: User) -> KycApplication | None:
    return (KycApplication.objects.filter(customer_id=customer.pk)
            .prefetch_related(Prefetch("documents", queryset=KycDocument.objects.filter(removed_at__isnull=True),
                                       to_attr="active_documents"),
                              Prefetch("reviews", queryset=KycReview.objects.order_by("-id")))
            .first())


def review_queue(*, status: str = domain.Status.SUBMITTED, query: str = "") -> QuerySet[KycApplication]:
    """Applications in ``status`` (all when empty), oldest submission first."""
    rows = KycApplication.objects.select_related("customer")
    if status:
        rows = rows.filter(status=status)
    query = query.strip()
    if query:
        rows = rows.filter(Q(customer__username__iexact=query) | Q(customer__mobile=query))
    return rows.order_by("submitted_at", "id")


def application_for_review(application_id: int) -> KycApplication | None:
    return (KycApplication.objects.select_related("customer", "reviewed_by").filter(pk=application_id)
            .prefetch_related(Prefetch("documents", queryset=KycDocument.objects.order_by("removed_at", "kind", "id")),
                              Prefetch("reviews", queryset=KycReview.objects.select_related("reviewer")
                                       .order_by("-id")))
            .first())


def active_kinds(application: KycApplication) -> set[str]:
    return set(application.documents.filter(removed_at__isnull=True).values_list("kind", flat=True))


def credit_preview(application: KycApplication) -> domain.CreditAssessment | None:
    """What approving now would give, or None while declarations are missing."""
    if application.annual_income is None or application.assets is None:
        return None
    return domain.assess_credit(annual_income=application.annual_income, assets=application.assets,
                                kinds=active_kinds(application))


def queue_size() -> int:
    return KycApplication.objects.filter(status=domain.Status.SUBMITTED).count()


def approved_credit(customer_id: int) -> tuple[str, int] | None:
    """(rating, borrowing limit in fen) of an approved customer, else None. For lending."""
    row = (KycApplication.objects.filter(customer_id=customer_id, status=domain.Status.APPROVED)
           .values_list("rating", "credit_limit").first())
    return (row[0], row[1]) if row else None
