"""What pages and operations declare, read back (the role-matrix test relies on it)."""

from __future__ import annotations

import pytest

from wanxin.audit import guards as access
from wanxin.audit.guards import require_any_operator_permission
from wanxin.backoffice.declared import CUSTOMER, OPERATOR, Need, page_need


def view(request):  # pragma: no cover - never called
    return None


def test_pages_read_back_what_their_decorators_say():
    assert page_need(view) is None
    assert page_need(access.require_operator(view)) == Need(OPERATOR)
    both = access.require_operator_permission("backoffice.run_reconciliation", "backoffice.close_reconciliation_day")
    assert page_need(both(view)) == Need(OPERATOR, ("backoffice.run_reconciliation",
                                                    "backoffice.close_reconciliation_day"))
    either = require_any_operator_permission("backoffice.review_allocations", "backoffice.manage_risk_rules")(view)
    assert page_need(either) == Need(OPERATOR, (), ("backoffice.review_allocations", "backoffice.manage_risk_rules"))


def test_unknown_or_missing_permissions_fail_at_import():
    with pytest.raises(ValueError, match="unknown back-office permission"):
        require_any_operator_permission("backoffice.fly")
    with pytest.raises(ValueError, match="unknown back-office permission"):
        require_any_operator_permission("auth.review_kyc")
    with pytest.raises(ValueError, match="at least one"):
        require_any_operator_permission()


def test_who_a_need_lets_through():
    either = Need(OPERATOR, (), ("backoffice.review_allocations", "backoffice.manage_risk_rules"))
    assert either.allows(operator=True, codenames={"manage_risk_rules"})
    assert not either.allows(operator=True, codenames={"view_customers"})
    assert not either.allows(operator=False)
    both = Need(OPERATOR, ("backoffice.run_reconciliation", "backoffice.close_reconciliation_day"))
    assert not both.allows(operator=True, codenames={"run_reconciliation"})
    assert both.allows(operator=True, codenames={"run_reconciliation", "close_reconciliation_day", "x"})
    assert Need(OPERATOR).allows(operator=True) and not Need(OPERATOR).allows(operator=False)
    assert Need(CUSTOMER).allows(operator=False) and not Need(CUSTOMER).allows(operator=True)
    assert str(either) == "review_allocations or manage_risk_rules" and str(Need(OPERATOR)) == "any operator"
