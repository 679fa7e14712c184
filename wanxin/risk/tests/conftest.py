"""Fixtures of the risk tests: a risk officer, operators without the permission, and helpers
that make rules and blacklist entries through the services."""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone

from wanxin.audit import roles
from wanxin.backoffice.tests import factories as f
from wanxin.risk import domain, services


@pytest.fixture
def officer():
    return f.operator(roles.RISK_OFFICER)


@pytest.fixture
def reviewer():
    return f.operator(roles.LOAN_REVIEWER)


def make_rule(officer, key: str, scope: str = "", *, action: str = domain.BLOCK, start: dt.datetime | None = None,
              end: dt.datetime | None = None, **params):
    return services.rule_create(operator=officer, data=services.RuleInput(
        key=key, scope=scope, action=action, params=domain.Params(**params),
        effective_from=start or timezone.now() - dt.timedelta(seconds=1), effective_to=end))
