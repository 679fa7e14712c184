"""Every write of lending, by sub-area (DESIGN §5): ``applications``, ``review``, ``bids``,
``miscarry``, ``disbursement``, and the ``transitions`` they share. What the bank's answers
do is in ``lending.results``; the lock order in ``lending.locks``.

Each business change and its ``DepositoryRequest`` (owned by the project, tender or
proposal it serves) commit together; the request is sent after the commit
(``depository.request_send_on_commit``); its result is applied once by
``depository.result_apply``, which routes it to the owner's handler in ``results``.

The public names stay importable from here."""

from .applications import ApplicationInput, application_submit
from .bids import tender_check, tender_place, tender_place_once
from .disbursement import disbursement_approve, disbursement_propose, disbursement_reject
from .miscarry import (
    miscarry_due,
    project_miscarry,
    refunds_issue,
    release_reissue,
    tender_refund_issue,
    tender_release_retry,
)
from .review import project_approve, project_reject
from .transitions import (
    Invalid,
    project_locked,
    project_move,
    project_state,
    project_status_report,
    rule_invalid,
    tender_move,
)

__all__ = [
    "ApplicationInput",
    "Invalid",
    "application_submit",
    "disbursement_approve",
    "disbursement_propose",
    "disbursement_reject",
    "miscarry_due",
    "project_approve",
    "project_locked",
    "project_miscarry",
    "project_move",
    "project_reject",
    "project_state",
    "project_status_report",
    "refunds_issue",
    "release_reissue",
    "rule_invalid",
    "tender_check",
    "tender_move",
    "tender_place",
    "tender_place_once",
    "tender_refund_issue",
    "tender_release_retry",
]
