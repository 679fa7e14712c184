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


def tender_progress(tender: Tender) -> dict[str, object]:
    """What the investor is told about their bid while the bank confirms it: the loan page's
    status line and its JSON (polled by site.js until ``final``)."""
    if tender.status == Tender.Status.PENDING:
        message = _("Confirming your investment with the bank…")
    elif tender.status == Tender.Status.FROZEN:
        message = _("Confirmed: your investment is frozen at the bank until the loan is disbursed.")
    elif tender.status == Tender.Status.FAILED:
        message = _("The bank refused the investment: %(reason)s") % {"reason": tender.fail_reason}
    else:
        message = tender_status_label(tender.status)
    return {"id": tender.pk, "status": tender.status, "label": str(tender_status_label(tender.status)),
            "final": tender.status != Tender.Status.PENDING, "message": str(message)}
