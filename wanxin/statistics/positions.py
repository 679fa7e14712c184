"""The loan book at given instants, in one SQL statement for any number of instants: the
principal outstanding (periods of loans disbursed before the instant and not repaid by it),
and of it what was overdue (due before the day less the grace days) and over 90 days overdue.
The statistics page asks for one instant, the disclosure page for each month's end."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal

from django.db import connection

from wanxin.lending.models import Project
from wanxin.repayments import services as repayment_services
from wanxin.repayments.models import DUE, OVERDUE, RepaymentPlan


@dataclass(frozen=True)
class Position:
    outstanding: int  # unpaid principal, fen
    outstanding_interest: int
    loans: int  # loans with principal outstanding
    overdue_principal: int
    overdue_amount: int  # unpaid principal + interest of the overdue periods
    overdue_periods: int
    overdue_loans: int
    over90_amount: int  # of those, periods more than 90 days overdue
    over90_periods: int
    over90_loans: int

    @property
    def overdue_rate(self) -> Decimal:
        """Overdue principal ÷ outstanding principal (the amount-based rate of P2P disclosure)."""
        return rate(self.overdue_principal, self.outstanding)

    @property
    def over90_rate(self) -> Decimal:
        return rate(self.over90_amount, self.outstanding + self.outstanding_interest)

    @property
    def loan_overdue_rate(self) -> Decimal:
        """Overdue loans ÷ loans outstanding (the count-based rate)."""
        return rate(self.overdue_loans, self.loans)


def rate(part: int, whole: int) -> Decimal:
    """A percentage with two decimals, rounded half up; 0 when there is no whole."""
    if not whole:
        return Decimal("0.00")
    return (Decimal(part) * 100 / Decimal(whole)).quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)


_SQL = f"""
SELECT pt.i,
  COALESCE(SUM(p.principal), 0), COALESCE(SUM(p.interest), 0), COUNT(DISTINCT p.project_id),
  COALESCE(SUM(p.principal) FILTER (WHERE p.due_date < pt.day - %(grace)s), 0),
  COALESCE(SUM(p.principal + p.interest) FILTER (WHERE p.due_date < pt.day - %(grace)s), 0),
  COUNT(p.id) FILTER (WHERE p.due_date < pt.day - %(grace)s),
  COUNT(DISTINCT p.project_id) FILTER (WHERE p.due_date < pt.day - %(grace)s),
  COALESCE(SUM(p.principal + p.interest) FILTER (WHERE p.due_date < pt.day - GREATEST(90, %(grace)s)), 0),
  COUNT(p.id) FILTER (WHERE p.due_date < pt.day - GREATEST(90, %(grace)s)),
  COUNT(DISTINCT p.project_id) FILTER (WHERE p.due_date < pt.day - GREATEST(90, %(grace)s))
FROM unnest(%(ends)s::timestamptz[], %(days)s::date[]) WITH ORDINALITY AS pt(end_at, day, i)
LEFT JOIN LATERAL (
  SELECT q.id, q.project_id, q.principal, q.interest, q.due_date
  FROM {RepaymentPlan._meta.db_table} q JOIN {Project._meta.db_table} j ON j.id = q.project_id
  WHERE j.loaned_at < pt.end_at AND (q.status IN ('{DUE}', '{OVERDUE}') OR q.repaid_at >= pt.end_at)
) p ON true
GROUP BY pt.i ORDER BY pt.i
"""  # noqa: S608  (table names and status codes are ours, values are parameters)


def positions(points: list[tuple[dt.datetime, dt.date]]) -> list[Position]:
    """The book at each (instant, its day): ``day`` decides what is overdue (due more than the
    grace days before it, as the nightly job marks), ``instant`` what was disbursed and repaid."""
    if not points:
        return []
    with connection.cursor() as cursor:
        cursor.execute(_SQL, {"grace": repayment_services.grace_days(), "ends": [p[0] for p in points],
                              "days": [p[1] for p in points]})
        return [Position(*row[1:]) for row in cursor.fetchall()]


def position(at: dt.datetime, day: dt.date) -> Position:
    return positions([(at, day)])[0]
