"""The statistics of a range gathered once, for the page and its CSV alike."""

from __future__ import annotations

from dataclasses import dataclass

from django.utils import timezone
from django.utils.translation import gettext as _

from . import bank, selectors
from .positions import Position
from .selectors import INCOME_LABELS, DateRange


@dataclass(frozen=True)
class Statistics:
    range: DateRange
    customers: selectors.Customers
    lending: selectors.Lending
    book: Position
    income: dict[str, int]
    exposure: selectors.Exposure
    depository: bank.Depository
    daily: list[dict]

    @property
    def income_total(self) -> int:
        return sum(self.income.values())

    def rows(self) -> list[tuple[str, str, str, object]]:
        """(code, label, unit, value) of every figure, in the page's order."""
        c, lent, b, e, d = self.customers, self.lending, self.book, self.exposure, self.depository
        money = d.customers_total if not d.error else None
        rows = [
            ("registered", _("Registered customers"), "count", c.registered),
            ("registered_in_range", _("Registered in the range"), "count", c.registered_in_range),
            ("accounts_open", _("Depository accounts open"), "count", c.accounts_open),
            ("accounts_opened_in_range", _("Accounts opened in the range"), "count", c.accounts_opened_in_range),
            ("depository_as_of", _("Bank balances as of the close of"), "date", d.day.isoformat()),
            ("under_depository", _("Customers' money under depository"), "fen", money),
            ("under_depository_available", _("Of which available"), "fen",
             d.customers_available if not d.error else None),
            ("under_depository_frozen", _("Of which frozen"), "fen", d.customers_frozen if not d.error else None),
            ("platform_income_account", _("Platform income account"), "fen", d.platform_income if not d.error else None),
            ("platform_capital_account", _("Platform capital account"), "fen",
             d.platform_capital if not d.error else None),
            ("raised", _("Principal raised in the range"), "fen", lent.raised),
            ("raised_count", _("Loans disbursed in the range"), "count", lent.raised_count),
            ("raised_total", _("Principal raised, all time"), "fen", lent.raised_total),
            ("repaid", _("Principal repaid in the range"), "fen", lent.repaid_principal),
            ("repaid_total", _("Principal repaid, all time"), "fen", lent.repaid_total),
            ("outstanding", _("Principal outstanding"), "fen", b.outstanding),
            ("overdue_principal", _("Overdue principal"), "fen", b.overdue_principal),
            ("overdue_amount", _("Overdue principal and interest"), "fen", b.overdue_amount),
            ("overdue_periods", _("Overdue periods"), "count", b.overdue_periods),
            ("overdue_loans", _("Overdue loans"), "count", b.overdue_loans),
            ("overdue_rate", _("Overdue rate (by principal)"), "percent", b.overdue_rate),
            ("loan_overdue_rate", _("Overdue rate (by loans)"), "percent", b.loan_overdue_rate),
            ("over90_amount", _("Over 90 days overdue"), "fen", b.over90_amount),
        ]
        rows += [(f"income_{k}", str(INCOME_LABELS[k]), "fen", v) for k, v in self.income.items()]
        rows += [
            ("income_total", _("Platform income"), "fen", self.income_total),
            ("allocations_running", _("Allocations running"), "count", e.running),
            ("allocation_exposure", _("Capital allocated (exposure)"), "fen", e.allocated),
            ("allocation_deposits", _("Allocation deposits"), "fen", e.deposits),
            ("allocation_risk_funds", _("Allocation risk funds"), "fen", e.risk_funds),
            ("allocations_warning", _("Allocations at the warning line"), "count", e.in_warning),
            ("allocations_liquidation", _("Allocations at the liquidation line"), "count", e.in_liquidation),
        ]
        return rows


def gather(r: DateRange, *, client=None) -> Statistics:
    today = timezone.localdate()
    return Statistics(
        range=r, customers=selectors.customers(r), lending=selectors.lending(r), book=selectors.book(r),
        income=selectors.income(r), exposure=selectors.exposure(),
        depository=bank.under_depository(bank.close_of(r.date_to, today), client=client),
        daily=selectors.daily(r))
