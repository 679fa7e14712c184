"""Statistics tests use the repayment tests' disbursed loan (real bank, live server); the
disclosure page is computed afresh for each request unless a test asks otherwise."""

import pytest

from wanxin.repayments.tests.conftest import (  # noqa: F401  (fixtures)
    _fast,
    customer,
    disbursed,
    finance,
    live,
    loan,
    outage,
    reviewer,
    sms,
)


@pytest.fixture(autouse=True)
def _disclosure_uncached(settings):
    settings.DISCLOSURE_CACHE_SECONDS = 0
