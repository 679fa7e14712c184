"""Pure money math of repayments: borrower schedules, per-investor receivables, penalty
interest and aging, prepayment, XIRR, and the calculator's input parsing. No Django here
(import-linter enforces it).

Amounts are integer fen, rates are ``Decimal`` fractions (``Decimal("0.12")`` is 12% a
year); no float is ever involved. Calculations run in ``Decimal`` at high precision and are
rounded half up to the fen only at the points named in each docstring.

Conventions:

- The monthly rate is the annual rate / 12. A period's interest is
  ``round_half_up(opening principal × annual rate × months in the period / 12)``; the
  multiplication comes first and the division by 12 last, so an exact half fen is seen as
  exactly half a fen.
- Daily interest (prepayment) is ACT/360: ``annual rate × days / 360``.
- XIRR is ACT/365 from the earliest cash flow, as in spreadsheets.

By sub-area: ``rules`` (methods, limits, input checks and parsing), ``schedules``,
``receivables``, ``overdue`` (penalty, aging, prepayment) and ``xirr``; every name is
importable from here."""

from wanxin.core.loan_terms import (  # noqa: F401
    _PRECISION,
    BULLET,
    EQUAL_INSTALLMENT,
    EQUAL_PRINCIPAL,
    INTEREST_DAYS_PER_YEAR,
    INTEREST_FIRST,
    MAX_AMOUNT,
    MAX_ANNUAL_RATE,
    MAX_MONTHS,
    METHODS,
    MIN_AMOUNT,
    MIN_MONTHS,
    MONTHS_PER_YEAR,
    RATE_DECIMAL_PLACES,
    XIRR_DAYS_PER_YEAR,
    ScheduleError,
    _check_decimal,
    check_amount,
    check_annual_rate,
    check_method,
    check_months,
    parse_amount,
    parse_annual_rate,
    parse_method,
    parse_months,
    parse_start,
)
from wanxin.core.schedules import (  # noqa: F401
    Period,
    Totals,
    add_months,
    annuity_payment,
    equal_installment_payment,
    interest_for,
    schedule,
    totals,
)

from .overdue import (  # noqa: F401
    AGING_BUCKETS,
    Prepayment,
    aging_bucket,
    overdue_days,
    penalty,
    prepayment,
)
from .receivables import (  # noqa: F401
    K,
    ReceivablePart,
    investor_interest_pool,
    investor_receivables,
    platform_shares,
)
from .xirr import (  # noqa: F401
    XIRR_PLACES,
    _bisect,
    _newton,
    _npv,
    xirr,
)
