"""Retrying the release of a failed repayment's freeze after the bank refused it."""

from __future__ import annotations

from django.db import transaction
from django.utils.translation import gettext as _

from wanxin.audit.actions import AuditAction
from wanxin.audit.guards import operator_require
from wanxin.core.errors import Conflict, NotFound
from wanxin.lending.services import release_reissue

from .. import locks
from ..models import CANCELLING, Repayment


def release_retry(*, operator, repayment_id: int) -> Repayment:
    """Ask the bank again to release a failed repayment's freeze after it refused the first
    CANCEL_PRE_TRANSACTION (the repayment stays CANCELLING and its periods held until the
    bank releases the money). A finance officer's action, audited."""
    operator_require(operator, "approve_disbursement")
    with transaction.atomic():
        repayment = locks.repayment_lock(repayment_id)
        if repayment is None:
            raise NotFound(_("No such repayment."), code="not_found")
        if repayment.status != CANCELLING:
            raise Conflict(_("The repayment is %(status)s; only a refused release can be retried.")
                           % {"status": repayment.get_status_display()},
                           code="bad_status")
        release_reissue(repayment, operator=operator, action=AuditAction.REPAYMENT_RELEASE_RETRY,
                        pre_request_no=repayment.request_no, amount=repayment.total)
    return repayment
