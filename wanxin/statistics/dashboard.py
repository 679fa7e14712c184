"""The statistics tile on the back-office dashboard: a way in, with the customers so far."""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _

from wanxin.accounts.models import User
from wanxin.audit import tiles

from .selectors import customers_q


@tiles.register("view_fund_statistics", label=_("Platform statistics: registered customers"),
                url="/backoffice/statistics/", order=60)
def registered_customers() -> int:
    return User.objects.filter(customers_q()).count()
