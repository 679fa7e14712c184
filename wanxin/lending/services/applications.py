"""A borrower's loan application: checked against the product, their KYC credit and what
they already borrow, then a project waiting for review."""

from __future__ import annotations

import secrets
from dataclasses import dataclass

from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from wanxin.audit.guards import customer_require
from wanxin.core.errors import Conflict
from wanxin.core.money import format_fen
from wanxin.funds.models import DepositoryAccount
from wanxin.kyc.selectors import approved_credit
from wanxin.risk import services as risk

from .. import domain, selectors
from ..models import LoanApplication, Project
from .transitions import project_move, rule_invalid


@dataclass(frozen=True)
class ApplicationInput:
    amount: object
    months: object
    method: str
    purpose: str
    description: str = ""


def application_submit(*, borrower, data: ApplicationInput) -> Project:
    """A borrower's loan application: a project waiting for review."""
    customer_require(borrower)
    credit = approved_credit(borrower.pk)
    if credit is None:
        raise Conflict(_("Your qualifications (KYC) must be approved before you can borrow."), code="no_kyc")
    if credit[0] == "HR":  # the risk rule that exists: the KYC rating
        raise Conflict(_("Your credit rating does not allow borrowing at present."), code="high_risk")
    account = DepositoryAccount.objects.filter(user=borrower).first()
    if account is None or not account.is_open:
        raise Conflict(_("Open your depository account first."), code="no_account")
    product = selectors.product_default()
    if selectors.open_project_of(borrower) is not None:
        raise Conflict(_("You already have an open loan application."), code="already_open")
    try:
        domain.check_application(amount=data.amount, months=data.months, method=data.method,
                                 purpose=data.purpose or "", description=data.description or "",
                                 limits=product.limits(), credit_limit=credit[1],
                                 in_use=selectors.credit_in_use(borrower))
    except domain.RuleError as exc:
        raise rule_invalid(exc) from exc
    risk.rules_check(kind="LOAN_APPLICATION", subject=borrower, figures=selectors.risk_figures_application(borrower, data.amount)).raise_if_blocked()  # risk rules (wanxin.risk)
    purpose, description = data.purpose.strip(), (data.description or "").strip()
    try:
        with transaction.atomic():
            application = LoanApplication.objects.create(
                borrower=borrower, product=product, amount=data.amount, months=data.months, method=data.method,
                purpose=purpose, description=description)
            project = Project.objects.create(
                application=application, borrower=borrower,
                project_no=f"P{timezone.now():%Y%m%d}{secrets.token_hex(5).upper()}",
                name=f"{purpose[:60]} · {format_fen(data.amount)} · {data.months} months",
                description=description, amount=data.amount, months=data.months, method=data.method,
                status=domain.DRAFT)
            project_move(project, domain.PENDING_REVIEW)
    except IntegrityError as exc:  # a concurrent application of the same borrower won
        raise Conflict(_("You already have an open loan application."), code="already_open") from exc
    return project
