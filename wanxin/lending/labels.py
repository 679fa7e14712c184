"""What people read for lending's codes: repayment methods and statuses, translatable.
The API and the database keep the codes; pages and messages show these labels."""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _

from .models import Disbursement, Project, Tender

METHOD_LABELS = {
    "EQUAL_INSTALLMENT": _("Equal installments"),
    "EQUAL_PRINCIPAL": _("Equal principal"),
    "INTEREST_FIRST": _("Interest first, principal at the end"),
    "BULLET": _("Principal and interest at the end"),
}


def method_label(code: str) -> str:
    return METHOD_LABELS.get(code, code)


def method_choices() -> list[tuple[str, str]]:
    return list(METHOD_LABELS.items())


def status_label(code: str) -> str:
    return dict(Project.Status.choices).get(code, code)


def tender_status_label(code: str) -> str:
    return dict(Tender.Status.choices).get(code, code)


def disbursement_status_label(code: str) -> str:
    return dict(Disbursement.Status.choices).get(code, code)
