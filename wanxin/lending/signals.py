"""What lending tells the apps above it, which subscribe in their ``AppConfig.ready``
(lending imports none of them).

``loan_disbursed(sender=Project, project=...)``: the bank confirmed the loan's disbursement
(CONFIRM_LOAN SUCCESS); sent inside that result's transaction with the project locked and
REPAYING, so a receiver's writes commit or roll back with it (repayments builds its plans)."""

from __future__ import annotations

from django.dispatch import Signal

loan_disbursed = Signal()
