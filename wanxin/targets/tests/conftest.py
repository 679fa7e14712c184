"""Target management tests use the repayment tests' disbursed loan (real bank, live server)."""

from wanxin.repayments.tests.conftest import (  # noqa: F401  (fixtures)
    _fast,
    customer,
    finance,
    live,
    loan,
    outage,
    reviewer,
    sms,
)
