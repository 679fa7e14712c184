"""What the bank's own pages tell a customer: authorisations and results in words, not codes."""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _

from wanxin.protocol import codes

# The business types a customer may authorise the platform to start (PROTOCOL authList).
AUTH_LABELS = {
    "TENDER": _("Invest on my behalf"),
    "REPAYMENT": _("Repay my loans"),
    "ALLOCATION": _("Stock allocation deposit"),
    "ALLOCATION_FEE": _("Allocation fees"),
    "ALLOCATION_SETTLE": _("Allocation settlement"),
    "COMPENSATION": _("Compensation"),
}

SERVICE_HEADINGS = {
    "PERSONAL_REGISTER": _("Open your depository account"),
    "RECHARGE": _("Recharge from your bound card"),
    "WITHDRAW": _("Withdraw to your bound card"),
}

# The result of a gateway request as its page states it (the protocol's respMsg is for machines).
RESULT_TEXT = {
    codes.SUCCESS: _("Done"),
    codes.SYSTEM_ERROR: _("The bank could not finish it; please try again"),
    codes.INVALID_PARAMS: _("The details sent to the bank were not accepted"),
    codes.ACCOUNT_NOT_FOUND: _("No open account was found"),
    codes.NOT_AUTHORISED: _("You have not authorised this"),
    codes.WRONG_PASSWORD: _("Wrong trade password too many times; the account is locked for 30 minutes"),
    codes.GATEWAY_ABANDONED: _("Cancelled, or the page expired"),
    codes.INSUFFICIENT_BALANCE: _("The available balance is not enough"),
}
