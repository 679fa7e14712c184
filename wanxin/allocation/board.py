"""The allocation risk board at /allocation/desk/risk-board: every running allocation, nearest
its liquidation line first (the desk's own ordering, ``selectors.by_liquidation_distance``),
with how far above the line it is in yuan and as a share of the deposit. For allocation
operators and risk officers; read only."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from django import forms
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils.translation import gettext_lazy as _
from django.views.decorators.http import require_GET

from wanxin.audit.guards import require_any_operator_permission

from . import domain, labels, selectors
from .models import Allocation

PAGE_SIZE = 25


class BoardFilter(forms.Form):
    status = forms.ChoiceField(label=_("Status"), required=False,
                               choices=[("", _("All running"))] + [(s, labels.STATUSES[s]) for s in domain.RUNNING])


@dataclass(frozen=True)
class Row:
    allocation: Allocation
    distance: int | None  # fen above the liquidation line; None: no account status recorded yet
    share: Decimal | None  # the same as a percentage of the deposit


def _row(allocation: Allocation) -> Row:
    if allocation.latest_total_assets is None:
        return Row(allocation, None, None)
    distance, share = domain.liquidation_distance(allocation.latest_total_assets,
                                                  liquidation_line=allocation.liquidation_line,
                                                  deposit=allocation.deposit)
    return Row(allocation, distance, share)


@require_GET
@require_any_operator_permission("backoffice.review_allocations", "backoffice.manage_risk_rules")
def risk_board(request: HttpRequest) -> HttpResponse:
    form = BoardFilter(request.GET or None)
    status = form.cleaned_data["status"] if form.is_valid() else ""
    statuses = (status,) if status else domain.RUNNING
    page = Paginator(selectors.by_liquidation_distance(statuses), PAGE_SIZE).get_page(request.GET.get("page"))
    query = request.GET.copy()
    query.pop("page", None)
    return render(request, "allocation/desk/risk_board.html", {
        "form": form, "page": page, "rows": [_row(a) for a in page], "query": query.urlencode(),
        "counts": [(s, labels.STATUSES[s], n) for s, n in selectors.running_counts().items()],
    }, status=400 if form.errors else 200)
